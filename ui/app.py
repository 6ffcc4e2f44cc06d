"""The Gradio app: a chat tab (answers + sources panel + filters) and a library tab.

Built only on the public APIs: ``rag`` (engine, library, answerers) and ``ingest`` (ingest).
Handlers live in ``ChatTab``/``LibraryTab``/``Api``; ``build_app`` only lays out and wires.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr

import rag
from ingest import SUPPORTED_SUFFIXES, ingest
from rag import Settings
from ui import render
from ui.exports import Exports
from ui.feeds import FEED_HEADERS, FeedsPanel, feeds_summary, when
from ui.pacing import paced
from ui.uploads import collect, discard_refused
from ui.whatsnew import NO_STORIES, WhatsNew, question_about

ASSETS = Path(__file__).parent / "assets"
# Gradio keeps a copy of every file it sends (each answer's export, each upload) in its cache:
# every day, those older than a day go; a page open longer re-exports on its next answer.
GRADIO_CACHE_PRUNE = (86_400, 86_400)
EXAMPLE_QUESTIONS = 3  # chips on the empty chat, from the newest headlines
HEADLINES_PER_EXAMPLE = 4
CHAT_CHROME_PX = 430  # the page's height that is not the chat: header, tabs, box, filters
# How often an open page asks whether the library changed: one small SQLite read per page.
LIBRARY_POLL_S = 5.0
# While an answer waits (for the LLM's first token, say), the handler still yields this often,
# so Stop takes effect within it (see ui/pacing.py); each wait is one empty update.
STOP_WITHIN_S = 0.25
log = logging.getLogger("newsrag.ui")
READ_ONLY = "This library is read-only here: articles can be searched but not added or deleted."
CONFIRM_DELETE = """(articleId, query, title) => {
  const name = title || articleId;
  const sure = window.confirm(`Delete “${name}” from the library? This can't be undone.`);
  return [sure ? articleId : "", query, title];
}"""
UNEXPECTED = "Something went wrong on the server while answering; its log has the details."


def plain_words(error: Exception) -> str:
    """What a person is shown for ``error``: our errors name the bad input; anything else is a
    bug, logged here with its traceback and never shown (it may hold paths or internals)."""
    if isinstance(error, rag.NewsragError):
        return str(error)
    log.error("unexpected error while answering", exc_info=error)
    return UNEXPECTED


TABLE_HEADERS = ["Title", "Source", "Published", "Chunks", "Id"]


def _day(value: Any) -> str | None:
    """A DateTime/Textbox value as YYYY-MM-DD (None when empty); the engine validates it."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value).date().isoformat()
    return str(value).strip()[:10] or None


def _text(content: Any) -> str:
    """A chat message's text: Gradio hands messages back as lists of typed parts."""
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, list):
        return "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
    return str(content or "")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


class Workspace:
    """What the handlers share: the settings, the engine and the library."""

    def __init__(self, settings: Settings, engine: rag.NewsQueryEngine):
        self.settings = settings
        self.engine = engine
        self.library = engine.library

    def bodies(self, article_ids: list[str]) -> dict[str, str | None]:
        found = {}
        for article_id in article_ids:
            article = self.library.get(article_id)
            found[article_id] = article.body if article else None
        return found

    def sources(self) -> list[str]:
        return self.library.sources()

    def examples(self) -> list[dict[str, str]]:
        """Example questions for the empty chat, from the library's newest headlines."""
        # Not every headline has a subject to ask about: read a few more than are shown.
        newest = self.library.newest_articles(EXAMPLE_QUESTIONS * HEADLINES_PER_EXAMPLE)
        return [{"text": q} for q in rag.suggested_questions(newest, EXAMPLE_QUESTIONS)]

    def stats_line(self) -> str:
        stats = self.library.stats()
        span = ""
        if stats["oldest"]:
            span = f" · {stats['oldest'][:10]} to {stats['newest'][:10]}"
        counts = _count(stats["articles"], "article")
        if stats["sources"]:
            counts += f" · {_count(stats['sources'], 'source')}"
        if stats["changed_at"]:  # a live library: is it keeping up?
            span += f" · updated {when(stats['changed_at'])}"
        if feeds := feeds_summary(self.library.subscriptions.all()):
            span += f" · {feeds}"
        return (
            f'<div id="nr-header"><h1>newsrag</h1><span class="tagline">answers from your news '
            f'library, with sources</span><span class="stats">{counts}{span}</span>'
            '<button id="nr-theme" type="button">Dark mode</button></div>'
        )


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


class ChatTab:
    """Stop is ours, not Gradio's ``cancels``: a cancelled turn stays pending in the page
    until the server confirms, and a question sent meanwhile was dropped for good. Now Stop
    asks the turn to end, the turn ends itself (within STOP_WITHIN_S) like any turn, and
    the page never holds a half-cancelled one."""

    def __init__(self, space: Workspace):
        self.space = space
        self.stop_requests: dict[str, threading.Event] = {}  # by page session, one per turn
        self.exports = Exports()

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
            as_of=_day(as_of),
            since=None if all_dates else _day(since),
            until=None if all_dates else _day(until),
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
        said = _text(event.value)
        for turn, answer in enumerate(answers or []):
            if _text(render.answer_message(answer, turn)) == said:
                try:
                    self.space.library.record_feedback(answer, helpful=bool(event.liked))
                except rag.ReadOnlyLibrary:
                    gr.Info("This library is read-only here: the feedback was not stored.")
                return

    @staticmethod
    def pick_example(event: gr.SelectData) -> str:
        return _text(event.value)

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


class LibraryTab:
    def __init__(self, space: Workspace):
        self.space = space
        self.feeds = FeedsPanel(space.settings, space.library)
        self.news = WhatsNew(space.library)

    def table(self, query: str = "") -> list[list[Any]]:
        needle = (query or "").casefold().strip()
        rows = []
        for a in self.space.library.articles():
            row = [
                a.title,
                a.source or "unknown",
                a.published_date.isoformat() if a.published_date else "unknown",
                a.chunk_count,
                a.id,
            ]
            if not needle or needle in f"{a.title} {a.source or ''} {a.url or ''}".casefold():
                rows.append(row)
        return rows

    def stats(self) -> str:
        s = self.space.library.stats()
        dates = f"{s['oldest'][:10]} to {s['newest'][:10]}" if s["oldest"] else "no dated articles"
        return (
            f"**{s['articles']:,}** articles · **{s['chunks']:,}** passages · "
            f"**{s['sources']}** sources · {dates} · {s['undated']} undated"
        )

    def run_ingest(self, files, urls, progress: gr.Progress | None = None) -> dict[str, Any]:
        """Take uploads and URLs into the library; returns the summary (also the API's reply)."""
        self.refuse_if_read_only()
        batch = collect(
            files, urls, self.space.settings.data_dir / "uploads", self.space.settings.max_file_mb
        )
        result: dict[str, Any] = {"added": 0, "updated": 0, "unchanged": 0,
                                  "failed": len(batch.problems), "errors": list(batch.problems),
                                  "notes": [], "titles": []}  # fmt: skip
        if batch.inputs:
            position = {name: i for i, name in enumerate(batch.inputs)}

            def on_progress(state):
                if progress is not None:
                    done = position.get(state.current, len(batch.inputs))
                    progress((done, len(batch.inputs)), desc=f"{state.articles} articles read")

            summary = ingest(batch.inputs, self.space.settings, on_progress=on_progress)
            discard_refused(batch, self.space.library)
            for key in ("added", "updated", "unchanged", "failed"):
                result[key] += getattr(summary, key)
            result["errors"] += [batch.as_uploaded(e) for e in summary.errors]
            result["notes"] = [batch.as_uploaded(n) for n in summary.notes]
            result["titles"] = summary.titles
        return result

    def add(self, files, urls, progress=gr.Progress()):  # noqa: B008  (Gradio's injection idiom)
        if not files and not (urls or "").strip():
            return (
                '<div class="ingest-result">Choose files or paste URLs first.</div>',
                *self.refreshed(),
            )
        result = self.run_ingest(files, urls, progress)
        counts = (
            f"Added {result['added']}, updated {result['updated']}, unchanged "
            f"{result['unchanged']}, failed {result['failed']}."
        )
        items = [f'<li class="added">{render.html_text(t)}</li>' for t in result["titles"]]
        items += [f'<li class="failed">{render.html_text(e)}</li>' for e in result["errors"]]
        items += [f"<li>{render.html_text(n)}</li>" for n in result["notes"]]
        html = f'<div class="ingest-result">{counts}<ul>{"".join(items)}</ul></div>'
        return html, *self.refreshed(clear_inputs=True)

    def refreshed(self, clear_inputs: bool = False, query: str = ""):
        """(table, stats, header, sources filter, files, urls) after the library changed."""
        return (
            self.table(query),
            self.stats(),
            self.space.stats_line(),
            gr.Dropdown(choices=self.space.sources()),
            None if clear_inputs else gr.skip(),
            "" if clear_inputs else gr.skip(),
        )

    def poll(self, seen: str, query: str = "", as_of: str | None = None):
        """(state, table, stats, header, sources filter, example questions, feeds table,
        what's new, its stories) if the library or its feeds changed since the page saw
        ``seen`` (in this process or another: a CLI ingest, a poller), else skips. On page
        load all is read fresh."""
        state = f"{self.space.library.generation}#{self.feeds.state()}"
        if state == seen:
            return (gr.skip(),) * 9
        table, stats, header, sources, *_ = self.refreshed(query=query)
        examples = gr.Chatbot(examples=self.space.examples() or None)
        news, stories = self.whats_new(as_of)
        return state, table, stats, header, sources, examples, self.feeds.table(), news, stories

    def whats_new(self, as_of: Any = None):
        """(the What's new panel, its clickable stories) as of the Filters' day."""
        html, questions = self.news.panel(_day(as_of))
        return html, gr.Dataset(samples=questions or [[NO_STORIES]])

    @staticmethod
    def pick_story(sample: list[str]) -> str:
        """A story clicked in What's new: the question about it goes into the box."""
        return "" if sample[0] == NO_STORIES else question_about(sample[0])

    @staticmethod
    def select(event: gr.SelectData):
        """A click on a row selects its article for deletion: (id, whole title, button)."""
        title, article_id = event.row_value[0], event.row_value[4]
        short = title if len(title) <= 60 else title[:59] + "…"
        return article_id, title, gr.Button(value=f"Delete “{short}”", interactive=True)

    def refuse_if_read_only(self) -> None:
        if self.space.library.read_only:
            raise gr.Error(READ_ONLY)

    def delete(self, article_id: str, query: str, title: str = ""):
        """Delete the selected article (confirmed in the browser: an empty id is "Cancel")."""
        if not article_id:
            return (gr.skip(),) * 6
        self.refuse_if_read_only()
        rag.delete_articles(self.space.library, [article_id])
        table, stats, header, sources, *_ = self.refreshed(query=query)
        cleared = gr.Button(value="Delete selected article", interactive=False)
        return "", cleared, table, stats, header, sources


class Api:
    """``/ask`` for ``gradio_client`` (``/ingest`` is ``LibraryTab.run_ingest``)."""

    def __init__(self, space: Workspace):
        self.space = space

    def ask(
        self,
        question: str,
        as_of: str = "",
        sources: list[str] | None = None,
        since: str = "",
        until: str = "",
        answerer: str = "",
    ) -> dict:
        """Answer a question from the library. Returns the Answer as JSON (text with [n],
        short_answer, refused, citations with quotes and offsets, closest sources)."""
        try:
            options = rag.AskOptions.build(
                as_of=as_of or None, sources=sources or None, since=since or None,
                until=until or None, answerer=answerer or None,
            )  # fmt: skip
            answer = self.space.engine.ask(question, options)
        except Exception as error:
            raise gr.Error(plain_words(error)) from None
        return answer.model_dump(mode="json")


def build_app(settings: Settings, engine: rag.NewsQueryEngine) -> gr.Blocks:
    space = Workspace(settings, engine)
    chat, library = ChatTab(space), LibraryTab(space)
    api = Api(space)
    answerers = rag.available_answerers(settings)

    with gr.Blocks(title="newsrag", fill_width=False, delete_cache=GRADIO_CACHE_PRUNE) as app:
        header = gr.HTML(space.stats_line())
        answers, sections = gr.State([]), gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False, elem_id="nr-chat-row"):
                    with gr.Column(scale=3, min_width=320):
                        chatbot = gr.Chatbot(
                            elem_id="nr-chat",
                            show_label=False,
                            # Leaves the question, what it searches and the Filters' header
                            # in view on a 1366x900 laptop (tests/ui/test_browser.py).
                            height=f"calc(100vh - {CHAT_CHROME_PX}px)",
                            min_height=360,
                            latex_delimiters=[],  # "$5 and $10" is money, not LaTeX
                            feedback_options=("Like", "Dislike"),
                            buttons=["copy"],
                            placeholder="Ask about the news in your library. Answers cite the "
                            "sentence they come from.",
                            examples=space.examples() or None,
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                placeholder="e.g. Who heads the U.N. nuclear watchdog?",
                                show_label=False,
                                scale=6,
                                max_lines=4,
                                elem_id="nr-question",
                                autofocus=True,
                            )
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80,
                                             elem_id="nr-ask")  # fmt: skip
                            stop = gr.Button("Stop", variant="stop", scale=1, min_width=80,
                                             visible=False, elem_id="nr-stop")  # fmt: skip
                        # What the next question will search, always in view by the box (the
                        # controls are in "Filters", after the sources on a phone).
                        active_filters = gr.HTML(
                            render.filters_summary(None, None, None, None), elem_id="nr-active"
                        )
                        retry = gr.Button(
                            render.SEARCH_EVERYTHING, size="sm", visible=False,
                            elem_id="nr-retry",
                        )  # fmt: skip
                        with gr.Row():
                            new = gr.Button("New conversation", size="sm")
                            export = gr.DownloadButton(
                                "Export as Markdown", size="sm", interactive=False
                            )
                    with gr.Column(scale=2, min_width=320):
                        panel = gr.HTML(render.sources_panel([]), elem_id="nr-sources")
                        with gr.Accordion("What's new", open=False, elem_id="nr-news"):
                            news = gr.HTML(elem_id="nr-news-list")
                            stories = gr.Dataset(
                                components=[gr.Textbox(visible=False)],
                                samples=[[NO_STORIES]],
                                label="Ask about a story",
                                elem_id="nr-stories",
                            )
                with gr.Accordion("Filters", open=False, elem_id="nr-filters"):
                    with gr.Row():
                        since = gr.DateTime(label="Published since", include_time=False,
                                            type="string", elem_id="nr-since")  # fmt: skip
                        until = gr.DateTime(label="Published until", include_time=False,
                                            type="string", elem_id="nr-until")  # fmt: skip
                        as_of = gr.DateTime(label="As of", include_time=False,
                                            type="string", elem_id="nr-as-of")  # fmt: skip
                    # Below the row, not squeezed beside the "As of" label.
                    gr.HTML(
                        '<p class="filters-hint">As of: today if empty. "Last week" counts back '
                        "from it, and articles published after it are hidden.</p>"
                    )
                    source_filter = gr.Dropdown(
                        choices=space.sources(),
                        multiselect=True,
                        label="Sources (all if none chosen)",
                    )
                    answerer = gr.Radio(
                        choices=[(rag.answerer_label(n, settings), n) for n in answerers],
                        value=settings.answerer if settings.answerer in answerers
                        else "extractive",
                        label="Answerer",
                        visible=len(answerers) > 1,
                    )  # fmt: skip

            with gr.Tab("Library", id="library"):
                stats = gr.Markdown(library.stats())
                with gr.Row():
                    files = gr.File(
                        label="Upload articles or feeds (txt, md, html, jsonl, rss/atom)",
                        file_count="multiple",
                        file_types=list(SUPPORTED_SUFFIXES),
                        type="filepath",
                    )
                    urls = gr.Textbox(
                        label="Or paste article or feed URLs, one per line",
                        lines=5,
                        placeholder="https://example.com/news/story.html",
                    )
                add = gr.Button("Add to library", variant="primary")
                result = gr.HTML()
                search = gr.Textbox(label="Search articles", placeholder="title, source or URL")
                table = gr.Dataframe(
                    value=library.table(),
                    headers=TABLE_HEADERS,
                    datatype=["str", "str", "str", "number", "str"],
                    interactive=False,
                    wrap=True,
                    max_height=480,
                    column_widths=["46%", "18%", "12%", "8%", "16%"],
                    elem_id="nr-table",
                )
                selected = gr.Textbox(visible=False)
                selected_title = gr.Textbox(visible=False)
                delete = gr.Button("Delete selected article", variant="stop", interactive=False)
                with gr.Accordion("Feeds", open=True, elem_id="nr-feeds"):
                    gr.Markdown(
                        "Subscribed feeds are checked on their schedule while `newsrag watch` "
                        "or `newsrag ui --watch` runs; their new articles appear here."
                    )
                    with gr.Row():
                        feed_url = gr.Textbox(
                            label="Feed URL (RSS or Atom)", scale=4,
                            placeholder="https://example.com/news.rss",
                        )  # fmt: skip
                        feed_every = gr.Textbox(label="Check every", placeholder="15m", scale=1)
                        feed_source = gr.Textbox(label="Source name (optional)", scale=2)
                    with gr.Row():
                        subscribe = gr.Button("Subscribe", variant="primary")
                        check_feeds = gr.Button("Check all feeds now")
                        unsubscribe = gr.Button("Unsubscribe selected feed", variant="stop")
                    feeds_result = gr.HTML()
                    feeds_table = gr.Dataframe(
                        value=library.feeds.table(), headers=FEED_HEADERS, interactive=False,
                        wrap=True, elem_id="nr-feeds-table",
                    )  # fmt: skip
                    selected_feed = gr.Textbox(visible=False)

        chat_inputs = [question, chatbot, answers, sections, since, until, as_of, source_filter,
                       answerer]  # fmt: skip
        chat_outputs = [question, chatbot, answers, sections, panel, export, retry, stop]
        # While an answer is prepared, a Stop button ends it (shown at once, before the
        # answer's turn in the queue; the answer hides it when done).
        show_stop = {"fn": chat.begin, "outputs": stop, "queue": False,
                     "api_visibility": "private"}  # fmt: skip

        def answers_after(started, fn, inputs) -> None:
            """``fn`` answers once ``started`` (which shows Stop) has run."""
            started.then(fn, inputs, chat_outputs, api_visibility="private")

        for trigger in (question.submit, send.click):
            answers_after(trigger(**show_stop), chat.respond, chat_inputs)
        # An example question on the empty chat goes into the box and is asked.
        picked = chatbot.example_select(
            ChatTab.pick_example, None, question, queue=False, api_visibility="private"
        )
        answers_after(picked.then(**show_stop), chat.respond, chat_inputs)
        story_picked = stories.click(LibraryTab.pick_story, stories, question, queue=False,
                                     api_visibility="private")  # fmt: skip
        answers_after(story_picked.then(**show_stop), chat.respond, chat_inputs)
        answers_after(retry.click(**show_stop), chat.retry,
                      [chatbot, answers, sections, as_of, answerer])  # fmt: skip
        stop.click(chat.stop, None, stop, queue=False, api_visibility="private")
        chatbot.like(chat.feedback, answers, None, api_visibility="private")
        cleared = [chatbot, answers, sections, panel, export, question, retry]
        new.click(chat.clear, None, cleared, api_visibility="private")
        # The chat's own trash icon used to empty the messages only: the next "he" still
        # meant the cleared conversation's person.
        chatbot.clear(chat.clear, None, cleared, api_visibility="private")

        changed = [table, stats, header, source_filter, files, urls]
        add.click(library.add, [files, urls], [result, *changed], api_visibility="private",
                  concurrency_id="library-write", concurrency_limit=1)  # fmt: skip
        search.change(library.table, search, table, api_visibility="private")
        table.select(library.select, None, [selected, selected_title, delete],
                     api_visibility="private")  # fmt: skip
        delete.click(
            library.delete,
            [selected, search, selected_title],
            [selected, delete, table, stats, header, source_filter],
            # Asked in the browser first, naming the whole title; "Cancel" sends no id.
            js=CONFIRM_DELETE,
            api_visibility="private",
            concurrency_id="library-write",
            concurrency_limit=1,
        )

        feeds = library.feeds
        subscribe.click(
            feeds.subscribe, [feed_url, feed_every, feed_source],
            [feeds_result, feeds_table, feed_url], api_visibility="private",
        )  # fmt: skip
        feeds_table.select(feeds.select, None, selected_feed, api_visibility="private")
        unsubscribe.click(feeds.unsubscribe, selected_feed, [feeds_result, feeds_table],
                          api_visibility="private")  # fmt: skip
        check_feeds.click(feeds.check_now, None, [feeds_result, feeds_table],
                          api_visibility="private", concurrency_id="library-write",
                          concurrency_limit=1)  # fmt: skip

        filter_inputs = [since, until, as_of, source_filter]
        for control in filter_inputs:
            control.change(render.filters_summary, filter_inputs, active_filters, queue=False,
                           show_progress="hidden", api_visibility="private")  # fmt: skip

        # Header, stats, table and sources filter are read when the page loads and whenever
        # the library's generation moves (changes by other processes included).
        seen = gr.State("")
        current = [seen, table, stats, header, source_filter, chatbot, feeds_table, news, stories]
        poll = {"api_visibility": "private", "queue": False}  # never waits behind questions
        app.load(library.poll, [seen, search, as_of], current, **poll)
        gr.Timer(LIBRARY_POLL_S).tick(
            library.poll, [seen, search, as_of], current, show_progress="hidden", **poll
        )
        as_of.change(library.whats_new, as_of, [news, stories], show_progress="hidden", **poll)

        gr.api(api.ask, api_name="ask")
        api_files = gr.File(file_count="multiple", visible=False)
        api_urls = gr.Textbox(visible=False)
        api_result = gr.JSON(visible=False)
        api_trigger = gr.Button(visible=False)
        api_trigger.click(
            library.run_ingest,
            [api_files, api_urls],
            api_result,
            api_name="ingest",
            api_description="Add files (gradio_client.handle_file) and/or URLs (one per line); "
            "returns counts and per-item errors.",
            concurrency_id="library-write",
            concurrency_limit=1,
        )
    return app


def theme() -> gr.themes.Base:
    return gr.themes.Soft(
        primary_hue="blue",
        neutral_hue="slate",
        # System fonts only: a web font would be fetched from the internet on every page load.
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


def launch_options() -> dict[str, Any]:
    script = (ASSETS / "app.js").read_text(encoding="utf-8")
    return {
        "css_paths": [ASSETS / "app.css"],
        "head": f"<script>{script}</script>",
        "theme": theme(),
        "footer_links": [],
    }
