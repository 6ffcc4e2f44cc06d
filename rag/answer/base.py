"""The interface every answerer implements, what it is given, and how its stream is read."""

from __future__ import annotations

import abc
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from rag.answer.question import AnswerType
from rag.dates import DateWindow, RecencyPrior
from rag.lexicon import Weights
from rag.types import Passage, Similarity

if TYPE_CHECKING:
    from rag.answer.follow_up import Turn

T = TypeVar("T")


@dataclass
class AnswerContext:
    question: str  # standalone question, as the user means it
    retrieval_query: str  # the question without its time expression
    passages: list[Passage]  # numbered 1..n in prompts and [n] markers
    kind: AnswerType
    entity_labels: frozenset[str] | None  # NER labels of an answer (short answers)
    weight: Weights  # rarity of a (stemmed) term in the library
    similarity: Similarity  # embedding cosine of a text against several
    recency: RecencyPrior | None = None  # how much a passage's age discounts its evidence
    answer_noun: str | None = None  # the noun "which ..." asks for ("sport": chess fits it)
    # The window a time expression names when it only weighs ("in 2019", "recently"): its
    # passages rank higher, and a short answer comes from them when any is among the best.
    boost: DateWindow | None = None

    def freshness(self, passage: Passage) -> float:
        return self.recency.weight(passage.published_date) if self.recency else 1.0


@dataclass
class Draft:
    """An answer before verification: [n] markers refer to ``context.passages``."""

    text: str
    short_answer: str | None = None
    # The short answer as the lead sentence words it, when the answer names it more fully.
    short_answer_span: str | None = None
    # How sure the answerer is, on the scale its refusal threshold uses; None when it has no
    # calibrated score (an LLM).
    confidence: float | None = None
    refused: bool = False
    # A refusal below the threshold: what would have been said (the eval's refusal sweep).
    withheld_text: str | None = None
    debug: dict[str, Any] = field(default_factory=dict)


class Answerer(abc.ABC):
    name: str
    # True when every statement is a sentence of a passage, word for word: verification then
    # needs no semantic (embedding) check of paraphrases.
    quotes_verbatim: bool = False
    # The confidence below which it refuses (Draft.confidence's scale); None: it has none.
    refusal_threshold: float | None = None

    @property
    def version(self) -> str:
        """Which model or weights answer: cached answers of another version are stale."""
        return self.name

    @abc.abstractmethod
    def draft(self, context: AnswerContext) -> Draft: ...

    def stream(self, context: AnswerContext) -> Iterator[str | Draft]:
        """Text pieces as they are produced, then the Draft. Default: all at once."""
        draft = self.draft(context)
        yield draft.text
        yield draft

    def rewrite(self, history: list[Turn], message: str) -> str | None:
        """A standalone question for a follow-up, or None to use the deterministic rewrite."""
        return None

    def expected_seconds(self, context: AnswerContext) -> float | None:
        """How long answering ``context`` should take, when that is long enough to say (an
        LLM's tens of seconds) and measured; None otherwise."""
        return None


def last_of(pieces: Iterable[object], kind: type[T]) -> T:
    """The ``kind`` item a stream ends with (text pieces before it are dropped)."""
    final = None
    for piece in pieces:
        if isinstance(piece, kind):
            final = piece
    if final is None:
        raise RuntimeError(f"the stream ended without a {kind.__name__}")
    return final


def relay(pieces: Iterable[str | Draft]) -> Generator[str, None, Draft | None]:
    """Pass an answerer's text pieces on (``yield from``) and return its Draft."""
    draft = None
    for piece in pieces:
        if isinstance(piece, Draft):
            draft = piece
        else:
            yield piece
    return draft
