import pytest

from rag.answer.question import answer_type, best_span, candidate_spans


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who heads the U.N. nuclear watchdog?", "person"),
        ("Which professional golfer won the 2023 Masters Tournament?", "person"),
        ("How many rounds of voting did it take?", "number"),
        ("By how much did prices rise?", "number"),
        ("The Kings ended a drought. When did they last make the playoffs?", "date"),
        ("Which U.S. city hosted the summit?", "place"),
        ("Where did the rocket launch from?", "place"),
        ("What has Tehran revealed in recent months?", "entity"),
    ],
)
def test_answer_type(question, kind):
    assert answer_type(question) == kind


def test_person_span_prefers_a_new_full_name():
    sentence = (
        "White House National Security Council spokesperson Brian Hughes responded to "
        "Khamenei’s remarks."
    )
    question = "Who responded to Khamenei on behalf of the White House?"
    assert best_span(candidate_spans(sentence, "person", question), question) == "Brian Hughes"


def test_number_and_date_spans_skip_what_the_question_says():
    assert candidate_spans("It took 15 rounds in 2023.", "number", "How many rounds in 2023?") == [
        "15"
    ]
    assert candidate_spans("Prices rose 70% in a year.", "number", "By how much?") == ["70%"]
    assert "January 7, 2023" in candidate_spans(
        "He won on January 7, 2023.", "date", "When did he win?"
    )
