"""What the candidate sentences measure about themselves (rag/answer/candidates.py)."""

from __future__ import annotations

from rag.answer.base import AnswerContext
from rag.answer.candidates import gather
from rag.types import Passage


def _context(question: str, text: str) -> AnswerContext:
    passage = Passage(
        chunk_id="c1", article_id="a1", title="World Cup", text=text, start=0, end=len(text)
    )
    return AnswerContext(
        question=question,
        retrieval_query=question,
        passages=[passage],
        kind="entity",
        entity_labels=None,
        weight=lambda term: 1.0,
        similarity=lambda query, texts: [0.0] * len(texts),
    )


def test_the_asking_share_counts_the_asking_sentence_alone():
    question = "The final was played in Qatar before a record crowd. Which team won the trophy?"
    retelling = "The final was played in Qatar before a record crowd on Sunday."
    answer = "In the end the Argentina team won the trophy on penalties."
    by_text = {c.text: c for c in gather(_context(question, f"{retelling} {answer}"), 1)}

    assert by_text[answer].asking == 1.0  # team, won, trophy
    assert by_text[retelling].asking == 0.0
    # Over the whole question the retelling matches more: why the asking share is its own.
    assert by_text[retelling].overlap > by_text[answer].overlap


def test_a_question_without_preamble_asks_with_all_its_content_words():
    question = "Which team won the trophy in Qatar?"
    sentence = "The Argentina team won the trophy on penalties."
    (candidate,) = gather(_context(question, sentence), 1)
    assert candidate.asking == 3 / 4  # team, won, trophy of team, won, trophy, qatar
