"""The chat handler's stream, turn by turn: what the chat window receives, with the real engine
(and SmolLM2 in-process for the token stream)."""

from __future__ import annotations

import re

import gradio as gr
import pytest

import rag
from tests.support import assert_leads_with
from ui import render
from ui.chat import ChatPanel
from ui.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chat(ui_settings):
    settings = ui_settings.model_copy(update={"llm_max_tokens": 64})
    return ChatPanel(Workspace(settings, rag.open_engine(settings=settings)))


def turn(chat, question, answers=(), sections=(), **filters):
    """The updates of one turn that change something (not the waits that let Stop in)."""
    options = {"since": None, "until": None, "as_of": None, "sources": None, "answerer": None}
    options.update(filters)
    updates = chat.respond(question, [], list(answers), list(sections), options["since"],
                           options["until"], options["as_of"], options["sources"],
                           options["answerer"])  # fmt: skip
    return [u for u in updates if u != (gr.skip(),) * len(u)]


def test_llm_drafts_are_not_shown_before_they_are_verified(chat):
    """The window used to stream SmolLM2's raw text and then replace it (with a refusal, at
    worst). Now: what was found and who is writing, then only the verified answer."""
    updates = turn(chat, "Who heads the U.N. nuclear watchdog?", answerer="llm")
    progress = [u[1][-1]["content"] for u in updates[1:-1]]
    assert progress and all(p.startswith("*Found ") for p in progress)
    assert "LLM: " in progress[0] and "is writing" in progress[0]
    assert len(progress) >= 3 and "words so far" in progress[-1]  # tokens arrived meanwhile
    answers = updates[-1][2]
    assert answers[0]["answerer"] == "llm"
    raw = answers[0]["debug"]["answerer"]["raw"]
    assert raw.strip() and all(raw[:40] not in p for p in progress)  # never the raw text
    final = updates[-1][1][-1]["content"]
    assert final == render.answer_message(answers[0], 0)  # the verified answer
    # The model was timed on that answer: the next one says what to expect (#26 finding 2).
    assert "expected to take" not in progress[0]
    again = turn(chat, "Who said Iran will not be coerced into talks?", answerer="llm")
    assert re.search(r"expected to take about \d+ (s|min)…", again[1][1][-1]["content"])


def test_a_refused_llm_draft_is_shown_collapsed_as_unverified():
    refused = {"refused": True, "text": "The articles in the library don't answer this question.",
               "answerer": "llm", "debug": {"answerer": {"raw": "The mayor is Bob [1]."}},
               "searched": {}, "closest": []}  # fmt: skip
    message = render.answer_message(refused, 0)
    assert '<details class="unverified">' in message and "The mayor is Bob" in message


def test_follow_ups_use_the_conversation(chat):
    first = turn(chat, "Who said Iran will not be coerced into talks?")[-1]
    answers, sections = first[2], first[3]
    second = turn(chat, "And who responded to him on behalf of the White House?", answers, sections)
    final = second[-1]
    assert_leads_with(final[2][1], "Brian Hughes")
    assert final[2][1]["debug"]["standalone_question"] != final[2][1]["question"]
    assert 'data-turn="1"' in final[4] and 'hidden data-turn="0"' in final[4]


def test_filters_reach_the_engine_and_bad_ones_are_explained(chat):
    final = turn(chat, "Who cut the ribbon?", as_of="2024-06-01", sources=["Millbrook Courier"])[-1]
    assert final[2][0]["citations"][0]["source"] == "Millbrook Courier"
    hidden = turn(chat, "Who cut the ribbon?", as_of="2024-03-01")[-1]
    assert hidden[2][0]["refused"]  # published after "as of": not used
    bad = turn(chat, "Who cut the ribbon?", since="2024-05-01", until="2024-01-01")
    message = bad[-1][1][-1]["content"]
    assert 'class="problem"' in message and "since \\(2024\\-05\\-01\\) is after until" in message
    assert all(update[2] in ([], gr.skip()) for update in bad)  # no answer was recorded


def test_an_empty_question_changes_nothing(chat):
    (update,) = turn(chat, "   ")
    assert update[:7] == (gr.skip(),) * 7
    assert update[7].visible is False  # the Stop button shown on Enter goes away


def test_a_control_character_question_is_cleaned_not_a_raw_exception(chat):
    final = turn(chat, "Who cut\x00 the \udcffribbon?\x1b[0m", as_of="2024-06-01")[-1]
    assert final[2][0]["question"] == "Who cut the ribbon? [0m"  # ESC became a space


def test_an_unexpected_failure_is_logged_and_shown_in_plain_words(chat, monkeypatch, caplog):
    """A bug shows one plain sentence, never the exception's text (paths, internals)."""

    def broken(*args, **kwargs):
        raise RuntimeError("/srv/secret/path: kaboom")

    monkeypatch.setattr(type(chat.space.engine), "stream_chat", broken)
    message = turn(chat, "Who cut the ribbon?")[-1][1][-1]["content"]
    assert "kaboom" not in message and "secret" not in message
    assert "went wrong on the server" in message
    assert "kaboom" in caplog.text  # the traceback is in the server's log


def test_a_narrowed_refusal_says_what_was_searched_and_offers_a_wider_retry(chat):
    refused = turn(chat, "Who cut the ribbon?", as_of="2024-06-01", since="2024-05-01")[-1]
    answer = refused[2][0]
    assert answer["refused"] and answer["searched"]["published_from"] == "2024-05-01"
    assert (
        "Searched articles published 2024\\-05\\-01 to 2024\\-06\\-01" in refused[1][-1]["content"]
    )
    assert refused[6].visible is True
    retried = list(chat.retry(refused[1], refused[2], refused[3], "2024-06-01", None))[-1]
    again = retried[2][-1]
    assert (
        again["question"] == "Who cut the ribbon?" and again["searched"]["published_from"] is None
    )
    assert any(c["title"].startswith("Harbour bridge") for c in again["citations"])
    assert retried[6].visible is False


def test_clear_resets_everything_the_conversation_holds():
    from ui.chat import ChatPanel

    messages, answers, sections, panel, export, question, retry = ChatPanel.clear()
    assert (messages, answers, sections, question) == ([], [], [], "")
    assert "data-turn" not in panel and retry.visible is False
    assert export.value is None and export.interactive is False


def test_stop_ends_the_turn_of_its_own_page_only(chat):
    """Stop asks the page's turn to end; the turn says so and records no answer. Another
    page's turn goes on."""
    import types

    mine, theirs = types.SimpleNamespace(session_hash="a"), types.SimpleNamespace(session_hash="b")
    options = (None, None, None, None, "llm")
    for page in (mine, theirs):
        assert chat.begin(page).visible is True
    my_turn = chat.respond("Who heads the U.N. nuclear watchdog?", [], [], [], *options, mine)
    their_turn = chat.respond("Who heads the U.N. nuclear watchdog?", [], [], [], *options,
                              theirs)  # fmt: skip
    next(my_turn), next(their_turn)  # both searching
    assert chat.stop(mine).visible is False
    stopped = list(my_turn)[-1]
    assert stopped[1][-1]["content"] == render.STOPPED
    assert stopped[2] == gr.skip() and stopped[7].visible is False  # no answer recorded
    answered = list(their_turn)[-1]
    assert answered[2][0]["answerer"] == "llm" and answered[7].visible is False


def test_gradio_hands_the_page_request_to_the_chat_handlers():
    """Stop is keyed by the page's session: Gradio must recognise the request parameter."""
    from gradio.utils import get_type_hints

    from ui.chat import ChatPanel

    for handler in (ChatPanel.begin, ChatPanel.stop, ChatPanel.respond, ChatPanel.retry):
        assert get_type_hints(handler)["request"] == (gr.Request | None)


def test_a_turn_leaves_no_stop_flag_behind(chat):
    import types

    page = types.SimpleNamespace(session_hash="done")
    chat.begin(page)
    list(chat.respond("Who cut the ribbon?", [], [], [], None, None, None, None, None, page))
    assert "done" not in chat.stop_requests
