"""Follow-up questions become standalone ones; chat histories in either shape."""

from __future__ import annotations

import pytest

from rag.answer.follow_up import Turn, conversation_pairs, rewrite_follow_up

KHAMENEI = (
    "Who said Iran will not be coerced into talks?",
    "Supreme Leader Ayatollah Ali Khamenei said the country will not be coerced into talks [1].",
)


def test_a_pronoun_becomes_the_previous_answers_person():
    assert rewrite_follow_up([KHAMENEI], "and who responded to him?") == (
        "Who responded to Ali Khamenei?"
    )


# The review's own conversation (#26 finding 1): "he" is the previous *answer*'s person.
LEBRON = (
    "Which athlete became the NBA's all-time leading scorer this week?",
    "LeBron James passed Kareem Abdul-Jabbar to become the NBA's all-time leading scorer [1].",
)


def test_he_is_the_person_the_previous_question_asked_for():
    """Given the Answer (as the chat window and ``engine.chat([(q, answer)], ...)`` do), its
    short answer is the referent; from text alone, the lead's best span."""
    answer = {"text": LEBRON[1], "short_answer": "LeBron James"}
    assert rewrite_follow_up([(LEBRON[0], answer)], "And whose record did he break?") == (
        "Whose record did LeBron James break?"
    )
    assert rewrite_follow_up([KHAMENEI], "And who answered him?") == "Who answered Ali Khamenei?"


def test_a_pronoun_is_the_thing_or_place_the_previous_question_named():
    netflix = ("What's the latest on Netflix?", "Netflix lost 970,000 subscribers [1].")
    assert rewrite_follow_up([netflix], "And how many subscribers did it lose?") == (
        "How many subscribers did Netflix lose?"
    )
    assert rewrite_follow_up([netflix], "and what is its share price?") == (
        "What is Netflix's share price?"
    )
    florida = ("What's the latest on Florida?", "Hurricane Ian struck Florida [1].")
    assert rewrite_follow_up([florida], "And how many customers there lost power?") == (
        "How many customers in Florida lost power?"
    )
    person = ("What's the latest on Liz Truss?", "Liz Truss resigned on Thursday [1].")
    assert rewrite_follow_up([person], "And how many days was this person in office?") == (
        "How many days was Liz Truss in office?"
    )


def test_what_about_asks_the_previous_question_again_about_the_new_name():
    federer = ("Serena Williams announced she will retire. Which Grand Slam has she won most?",
               "Williams won the Australian Open seven times [1].")  # fmt: skip
    assert rewrite_follow_up([federer], "And what about Roger Federer?") == (
        "Roger Federer announced she will retire. Which Grand Slam has she won most?"
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
    assert conversation_pairs(messages) == [Turn("first?", "one [1]."), Turn("second?", "")]
    assert conversation_pairs([("q?", None), ["r?", "s."]]) == [Turn("q?", ""), Turn("r?", "s.")]
    answer = {"text": "Rafael Grossi heads it [1].", "short_answer": "Rafael Grossi"}
    assert conversation_pairs([("Who heads it?", answer)]) == [
        Turn("Who heads it?", "Rafael Grossi heads it [1].", "Rafael Grossi")
    ]
