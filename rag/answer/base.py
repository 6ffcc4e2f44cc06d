"""The interface every answerer implements, and what it is given."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rag.answer.question import AnswerType
from rag.cite import Weights
from rag.dates import RecencyPrior
from rag.types import Passage

Similarity = Callable[[str, list[str]], list[float]]


@dataclass
class AnswerContext:
    question: str  # standalone question, as the user means it
    retrieval_query: str  # the question without its time expression
    passages: list[Passage]  # numbered 1..n in prompts and [n] markers
    kind: AnswerType
    weight: Weights  # rarity of a (stemmed) term in the library
    similarity: Similarity  # embedding cosine of a text against several
    recency: RecencyPrior | None = None  # how much a passage's age discounts its evidence

    def freshness(self, passage: Passage) -> float:
        return self.recency.weight(passage.published_date) if self.recency else 1.0


@dataclass
class Draft:
    """An answer before verification: [n] markers refer to ``context.passages``."""

    text: str
    short_answer: str | None = None
    confidence: float = 1.0
    refused: bool = False
    debug: dict[str, Any] = field(default_factory=dict)


class Answerer(abc.ABC):
    name: str

    @abc.abstractmethod
    def draft(self, context: AnswerContext) -> Draft: ...

    def stream(self, context: AnswerContext) -> Iterator[str | Draft]:
        """Text pieces as they are produced, then the Draft. Default: all at once."""
        draft = self.draft(context)
        yield draft.text
        yield draft

    def rewrite(self, history: list[tuple[str, str]], message: str) -> str | None:
        """A standalone question for a follow-up, or None to use the deterministic rewrite."""
        return None
