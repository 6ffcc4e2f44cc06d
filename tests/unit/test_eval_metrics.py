"""Metric units with hand-computed values, including the edge cases."""

import json

import pytest

from eval import Config, EvalError
from eval.dataset import DatasetError, load_questions
from eval.metrics import (
    contains_answer,
    exact_match,
    first_sentence,
    hit_at_k,
    mrr_at_k,
    normalize,
    percentile,
    recall_at_k,
    short_answer_correct,
    token_f1,
    word_count,
)


def test_normalize_drops_case_punctuation_articles_and_markers():
    assert normalize("The “Little Mermaid” [1], a film!") == "little mermaid film"


@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("Sesame joined the list [1].", "Sesame", True),
        ("The law raises it by $500 [1].", "$500", True),
        ("It rose 70% this year.", "70%", True),
        ("Jon Rahmsson won.", "Jon Rahm", False),  # whole words only
        ("", "Paris", False),  # empty answer
        ("word " * 60 + "Paris", "Paris", False),  # over the 60-word cap
        ("word " * 59 + "Paris [1].", "Paris", True),  # markers and punctuation don't count
    ],
)
def test_contains_answer(answer, gold, expected):
    assert contains_answer(answer, gold) is expected


def test_word_count_ignores_markers_and_punctuation():
    assert word_count("Paris is big [1]. — [2]") == 3


def test_token_f1_hand_computed():
    # predicted: president joe biden (3), gold: joe biden (2): common 2, P=2/3, R=1, F1=0.8
    assert token_f1("President Joe Biden", "Joe Biden") == pytest.approx(0.8)
    assert token_f1("", "Joe Biden") == 0.0
    assert token_f1("", "") == 1.0
    assert token_f1("Kamala Harris", "Joe Biden") == 0.0


def test_exact_match_of_short_answer():
    assert exact_match("The Little Mermaid", "little mermaid")
    assert not exact_match(None, "x")  # no short answer given (e.g. a refusal)


def test_ranking_metrics_hand_computed():
    ranked = ["a", "b", "a", "c", "d"]  # duplicates (several chunks of one article) count once
    assert hit_at_k(ranked, {"c"}, 3) and not hit_at_k(ranked, {"d"}, 3)
    assert mrr_at_k(ranked, {"c"}) == pytest.approx(1 / 3)
    assert mrr_at_k(ranked, {"z"}) == 0.0
    assert recall_at_k(ranked, {"a", "d", "z"}, 4) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, set(), 4) == 0.0
    assert hit_at_k([], {"a"}, 5) is False  # no citations / nothing retrieved


def test_percentile_nearest_rank():
    assert percentile([10, 20, 30, 40], 50) == 20
    assert percentile([10, 20, 30, 40], 95) == 40
    assert percentile([], 50) == 0.0


GOOD = {"id": "q1", "question": "Who?", "answer": "Ann", "question_date": "2024-03-05"}


def write_lines(tmp_path, *records):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records))
    return path


def test_load_questions_defaults_and_analysis_fields(tmp_path):
    refusal = {**GOOD, "id": "q2", "answer": "<refusal>", "mc_choices": ["a", "b"]}
    questions = load_questions(write_lines(tmp_path, GOOD, refusal))
    assert [q.answerable for q in questions] == [True, False]
    assert questions[1].extra == {"mc_choices": ["a", "b"]}  # kept aside, never asked


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ((GOOD, "{broken"), r"q.jsonl:2: malformed JSON"),
        (({"id": "x", "question": "Q?"},), r"q.jsonl:1: missing field\(s\) answer, question_date"),
        ((GOOD, GOOD), r"q.jsonl:2: duplicate id 'q1' \(first on line 1\)"),
        (({**GOOD, "question_date": "soon"},), r"q.jsonl:1: question_date 'soon'"),
        (({**GOOD, "gold_article_ids": "a1"},), r"q.jsonl:1: gold_article_ids must be a list"),
        ((), r"no questions"),
    ],
)
def test_load_questions_bad_input(tmp_path, records, message):
    with pytest.raises(DatasetError, match=message):
        load_questions(write_lines(tmp_path, *records))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("default", Config("default", {})),
        ("dense_only", Config("dense_only", {"retrieval_mode": "dense"})),
        ("mine:top_k=8,answerer=llm", Config("mine", {"top_k": 8, "answerer": "llm"})),
    ],
)
def test_config_parsing(text, expected):
    assert Config.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("nope", "unknown name"), ("x:top_k", "expected key=value"), (":a=1", "empty name")],
)
def test_bad_configs(text, message):
    with pytest.raises(EvalError, match=message):
        Config.parse(text)


def test_first_sentence_is_what_a_reader_reads_first():
    text = "Rafael Grossi heads the agency [1]. Talks are running out of time [2]."
    assert first_sentence(text) == "Rafael Grossi heads the agency [1]."
    assert first_sentence("") == ""


def test_first_sentence_accuracy_counts_only_the_first_sentence():
    text = "The council met on Monday [1]. Mayor Tom Becker cut the ribbon [2]."
    assert contains_answer(text, "Tom Becker")
    assert not contains_answer(first_sentence(text), "Tom Becker")


@pytest.mark.parametrize(
    ("short", "gold", "correct"),
    [
        ("Rafael Grossi", "Grossi", True),
        ("31,000 people", "31,000", True),
        (None, "Grossi", False),
        ("", "Grossi", False),
        ("Brian Hughes", "Grossi", False),
        # 9 words hold the gold, but max(8, 2 x 1) = 8 words is the most a short answer may be
        ("the head of the agency Rafael Grossi said today", "Grossi", False),
        ("the head of the agency Rafael Grossi said", "Grossi", True),  # 8 words
        # a long gold gets room: 2 x 5 = 10 words
        (
            "the first drone carrier and an underground naval station",
            "first drone carrier and an underground naval station",
            True,
        ),
    ],
)
def test_short_answer_must_hold_the_gold_and_be_short(short, gold, correct):
    assert short_answer_correct(short, gold) is correct


def test_a_conversation_set_that_cannot_be_written_or_read_is_named(tmp_path):
    from eval.conversations import load_conversations, write_conversations

    with pytest.raises(EvalError, match=r"--out .*x\.jsonl: cannot write"):
        write_conversations([], tmp_path / "missing" / "x.jsonl")
    binary = tmp_path / "conversations.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(EvalError, match=r"conversations\.jsonl: invalid UTF-8 at byte 0"):
        load_conversations(binary)
