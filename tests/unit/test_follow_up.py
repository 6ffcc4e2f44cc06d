"""Follow-up questions become standalone ones; chat histories in either shape."""

from __future__ import annotations

import pytest

from rag.answer.question import conversation_pairs, rewrite_follow_up

KHAMENEI = (
    "Who said Iran will not be coerced into talks?",
    "Supreme Leader Ayatollah Ali Khamenei said the country will not be coerced into talks [1].",
)


def test_a_pronoun_becomes_the_previous_answers_person():
    assert rewrite_follow_up([KHAMENEI], "and who responded to him?") == (
        "Who responded to Ali Khamenei?"
    )


def test_without_a_pronoun_the_subject_is_added_as_context():
    assert rewrite_follow_up([KHAMENEI], "what about the sanctions?") == (
        "What about the sanctions (Ali Khamenei)?"
    )


def test_without_a_referent_the_previous_question_is_the_context():
    history = [("What did the council vote on?", "The council voted on the budget [1].")]
    assert rewrite_follow_up(history, "and why was that?") == (
        "Why was that (What did the council vote on)?"
    )


@pytest.mark.parametrize(
    "history, message",
    [([], "and who responded to him?"), ([KHAMENEI], "Who heads the U.N. nuclear watchdog?")],
    ids=["no history", "not a follow-up"],
)
def test_a_standalone_question_is_left_alone(history, message):
    assert rewrite_follow_up(history, message) == message


def test_conversation_pairs_from_pairs_and_from_chat_messages():
    messages = [
        {"role": "user", "content": "first?"},
        {"role": "assistant", "content": "one [1]."},
        {"role": "user", "content": "unanswered?"},
        {"role": "user", "content": "second?"},
        {"role": "assistant", "content": None},
    ]
    assert conversation_pairs(messages) == [("first?", "one [1]."), ("second?", "")]
    assert conversation_pairs([("q?", None), ["r?", "s."]]) == [("q?", ""), ("r?", "s.")]
