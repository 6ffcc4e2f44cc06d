"""The chat panel: the conversation, the question box with Ask/Stop, the refusal's retry,
New conversation, the export, and the sources panel beside it; each turn streamed from
``NewsQueryEngine.stream_chat``."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import gradio as gr

import rag
from ui import render
from ui.exports import Exports
from ui.filters import Filters
from ui.pacing import paced
from ui.workspace import Workspace, as_day, plain_words

CHAT_CHROME_PX = 430  # the page's height that is not the chat: header, tabs, box, filters
# While an answer waits (for the LLM's first token, say), the handler still yields this often,
# so Stop takes effect within it (see ui/pacing.py); each wait is one empty update.
STOP_WITHIN_S = 0.25


def message_text(content: Any) -> str:
    """A chat message's text: Gradio hands messages back as lists of typed parts."""
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, list):
        return "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
    return str(content or "")


def second_chance(answer: rag.Answer) -> gr.Button:
    """The retry a refusal offers: the article that may answer read whole, or else a search of
    every date and source when something narrowed it; none otherwise."""
    if answer.refused and answer.may_answer:
        return gr.Button(value=render.ASK_ARTICLE, visible=True)
    return gr.Button(
        value=render.SEARCH_EVERYTHING, visible=answer.refused and answer.searched.narrowed
    )


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or ""


class ChatPanel:
    """Stop is ours, not Gradio's ``cancels``: a cancelled turn stays pending in the page
    until the server confirms, and a question sent meanwhile was dropped for good. Now Stop
    asks the turn to end, the turn ends itself (within STOP_WITHIN_S) like any turn, and
    the page never holds a half-cancelled one."""

    def __init__(self, space: Workspace):
        self.space = space
        self.stop_requests: dict[str, threading.Event] = {}  # by page session, one per turn
        self.exports = Exports()

    # ------------------------------------------------------------------ layout and events
    def layout(self) -> None:
        """The conversation column: the chat, the question box with Ask and Stop, what the
        next question searches, the refusal's retry, New conversation and Export."""
        self.answers, self.sections = gr.State([]), gr.State([])
        self.chatbot = gr.Chatbot(
            elem_id="nr-chat",
            show_label=False,
            # Leaves the question, what it searches and the Filters' header in view on a
            # 1366x900 laptop (tests/ui/test_browser.py).
            height=f"calc(100vh - {CHAT_CHROME_PX}px)",
            min_height=360,
            latex_delimiters=[],  # "$5 and $10" is money, not LaTeX
            feedback_options=("Like", "Dislike"),
            buttons=["copy"],
            placeholder="Ask about the news in your library. Answers cite the sentence they "
            "come from.",
            examples=self.space.examples() or None,
        )
        with gr.Row():
            self.question = gr.Textbox(
                placeholder="e.g. Who heads the U.N. nuclear watchdog?",
                show_label=False,
                scale=6,
                max_lines=4,
                elem_id="nr-question",
                autofocus=True,
            )
            self.ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=80,
                                        elem_id="nr-ask")  # fmt: skip
            self.stop_button = gr.Button("Stop", variant="stop", scale=1, min_width=80,
                                         visible=False, elem_id="nr-stop")  # fmt: skip
        self.active_filters = Filters.summary_box()
        self.retry_button = gr.Button(render.SEARCH_EVERYTHING, size="sm", visible=False,
                                      elem_id="nr-retry")  # fmt: skip
        with gr.Row():
            self.new_button = gr.Button("New conversation", size="sm")
            self.export_button = gr.DownloadButton(
                "Export as Markdown", size="sm", interactive=False
            )

    def layout_sources(self) -> None:
        """The sources panel: each answer's citations with their articles (its own column)."""
        self.panel = gr.HTML(render.sources_panel([]), elem_id="nr-sources")

    def wire(self, filters: Filters) -> None:
        self.inputs = [self.question, self.chatbot, self.answers, self.sections,
                       *filters.question_inputs]  # fmt: skip
        self.outputs = [self.question, self.chatbot, self.answers, self.sections, self.panel,
                        self.export_button, self.retry_button, self.stop_button]  # fmt: skip
        for listener in (self.question.submit, self.ask_button.click):
            self.ask_on(listener)
        # An example question on the empty chat goes into the box and is asked.
        picked = self.chatbot.example_select(self.pick_example, None, self.question,
                                             queue=False, api_visibility="private")  # fmt: skip
        self.ask_on(picked.then)
        self.ask_on(self.retry_button.click, self.retry, [self.chatbot, self.answers,
                    self.sections, filters.as_of, filters.answerer])  # fmt: skip
        self.stop_button.click(self.stop, None, self.stop_button, queue=False,
                               api_visibility="private")  # fmt: skip
        self.chatbot.like(self.feedback, self.answers, None, api_visibility="private")
        cleared = [self.chatbot, self.answers, self.sections, self.panel, self.export_button,
                   self.question, self.retry_button]  # fmt: skip
        self.new_button.click(self.clear, None, cleared, api_visibility="private")
        # The chat's own trash icon used to empty the messages only: the next "he" still
        # meant the cleared conversation's person.
        self.chatbot.clear(self.clear, None, cleared, api_visibility="private")

    def ask_on(self, listener, handler=None, inputs=None) -> None:
        """Answer when ``listener`` fires (``question.submit``, ``event.then``...): Stop shows
        at once, before the answer's turn in the queue, and the answer hides it when done."""
        shown = listener(self.begin, None, self.stop_button, queue=False, api_visibility="private")
        shown.then(handler or self.respond, inputs or self.inputs, self.outputs,
                   api_visibility="private")  # fmt: skip

    # ------------------------------------------------------------------ handlers

    def begin(self, request: gr.Request | None = None):  # Gradio passes the page's request
        """A question was sent: show Stop at once (before the turn's place in the queue)."""
        self.stop_requests[_session(request)] = threading.Event()
        return gr.Button(visible=True)

    def stop(self, request: gr.Request | None = None):
        """Stop pressed: the turn of this page ends at its next moment (or at its start)."""
        self.stop_requests.get(_session(request), threading.Event()).set()
        return gr.Button(visible=False)

    def respond(self, message, messages, answers, sections, since, until, as_of, sources, answerer,
                request: gr.Request | None = None, all_dates=False, article=None):  # fmt: skip
        """Stream one turn: outputs are (textbox, chatbot, answers, sections, panel, export,
        retry button, Stop button). ``all_dates``: the refusal's retry (every date, every
        source); ``article``: the retry that reads the article that may answer, whole. Stop is
        hidden here when the turn ends, not by a follow-up event: a stopped turn's follow-up
        used to hide the next question's Stop."""
        session = _session(request)
        stop_requested = self.stop_requests.get(session, threading.Event())
        try:
            yield from self._turn(message, messages, answers, sections, since, until, as_of,
                                  sources, answerer, all_dates, article,
                                  stop_requested)  # fmt: skip
        finally:  # the turn's flag goes with it (one per page would pile up over months)
            if self.stop_requests.get(session) is stop_requested:
                del self.stop_requests[session]

    def _turn(self, message, messages, answers, sections, since, until, as_of, sources, answerer,
              all_dates, article, stop_requested):  # fmt: skip
        skip = gr.skip()
        waiting = (skip,) * 8
        hidden = gr.Button(visible=False)
        if not (message or "").strip():
            yield *waiting[:7], hidden
            return
        turn = len(answers)
        before = [*messages, {"role": "user", "content": render.markdown_text(message)}]

        def reply(content: str) -> list[dict[str, str]]:  # a new list per update
            return [*before, {"role": "assistant", "content": content}]

        yield "", reply(render.SEARCHING), answers, sections, skip, skip, hidden, skip
        history = [(a["question"], a) for a in answers]  # with its short answer: "he" is it
        options = rag.AskOptions(
            as_of=as_day(as_of),
            since=None if all_dates else as_day(since),
            until=None if all_dates else as_day(until),
            sources=None if all_dates else (tuple(sources or ()) or None),
            answerer=answerer or None,
            all_dates=all_dates,
            article=article,
        )
        partial, final, found = "", None, None
        try:
            stream = self.space.engine.stream_chat(history, message, options)
            with contextlib.closing(paced(stream, STOP_WITHIN_S)) as pieces:
                for piece in pieces:
                    if stop_requested.is_set():  # closing stops the model at its next token
                        yield skip, reply(render.STOPPED), *waiting[:5], hidden
                        return
                    if piece is None:  # still waiting: a moment at which Stop can take effect
                        yield waiting
                        continue
                    if isinstance(piece, rag.Retrieved):
                        found = piece
                        label = rag.answerer_label(piece.answerer, self.space.settings)
                        shown = reply(render.progress_message(piece, label, 0))
                    elif isinstance(piece, str) and found and found.answerer == "llm":
                        # A model's draft is not shown before it is verified: a sentence read
                        # now and taken back later misleads (or a refusal replaces it all).
                        partial += piece
                        shown = reply(render.progress_message(found, label, len(partial.split())))
                    elif isinstance(piece, str):
                        partial += piece  # extractive: sentences quoted verbatim from articles
                        shown = reply(render.streaming_message(partial))
                    else:
                        final = piece
                        continue
                    yield skip, shown, skip, skip, skip, skip, skip, skip
        except Exception as error:  # say what is wrong in plain words, keep the conversation
            shown = reply(render.error_message(plain_words(error)))
            yield skip, shown, skip, skip, skip, skip, skip, hidden
            return
        data = final.model_dump(mode="json")
        answers = [*answers, data]
        shown_articles = [c["article_id"] for c in data["citations"]] + [
            p["article_id"] for p in data["closest"]
        ]
        bodies = self.space.bodies(shown_articles)
        sections = [*sections, render.sources_section(turn, data, bodies)]
        yield (
            gr.skip(),
            reply(render.answer_message(data, turn)),
            answers,
            sections,
            render.sources_panel(sections),
            gr.DownloadButton(value=self.export(answers), interactive=True),
            second_chance(final),
            hidden,
        )

    def retry(self, messages, answers, sections, as_of, answerer,
              request: gr.Request | None = None):  # fmt: skip
        """The last question again (shown after a refusal): over every passage of the article
        that may answer it, or else over every date and source."""
        if not answers:
            yield *(gr.skip(),) * 7, gr.Button(visible=False)
            return
        last = answers[-1]
        yield from self.respond(last["question"], messages, answers, sections, None, None,
                                as_of, None, answerer, request, all_dates=True,
                                article=last.get("may_answer"))  # fmt: skip

    def export(self, answers: list[dict[str, Any]]) -> str:
        return str(self.exports.write(render.conversation_markdown(answers)))

    def feedback(self, answers, event: gr.LikeData):
        """Thumbs up/down on an answer: stored in the library (``newsrag feedback``)."""
        if event.liked is None:  # the thumb was taken back
            return
        said = message_text(event.value)
        for turn, answer in enumerate(answers or []):
            if message_text(render.answer_message(answer, turn)) == said:
                try:
                    self.space.library.record_feedback(answer, helpful=bool(event.liked))
                except rag.ReadOnlyLibrary:
                    gr.Info("This library is read-only here: the feedback was not stored.")
                return

    @staticmethod
    def pick_example(event: gr.SelectData) -> str:
        return message_text(event.value)

    @staticmethod
    def clear():
        """A new conversation: messages, sources, export, follow-up context and retry, all
        together (the trash icon and "New conversation" both)."""
        return (
            [],
            [],
            [],
            render.sources_panel([]),
            gr.DownloadButton(value=None, interactive=False),
            "",
            gr.Button(visible=False),
        )
