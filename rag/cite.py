"""Citations that point at the exact supporting sentence, verified after generation.

Support judgement (documented, used by the answerers and the eval): an answer statement is
supported by a passage when one sentence of the passage contains at least
``SUPPORT_THRESHOLD`` of the statement's content words (stemmed, stopwords removed, weighted by
rarity in the library), or, when an embedding model is given, that share is at least half the
threshold and the sentence is semantically close (cosine >= ``SEMANTIC_THRESHOLD``). The
quote of a citation is that best sentence, verbatim, with its offsets in the article body.

Verification of a draft with ``[n]`` markers: each statement keeps the cited passages that
support it; a citation to a passage that does not support it is moved to the passage that does
best (if any passes); an unsupported statement is dropped. No supported statement left means
the answer is a refusal. Citations are renumbered 1..k in order of first use, and can only point
at passages that were retrieved for this question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rag.lexicon import Weights, stopwords, terms
from rag.text import sentence_spans
from rag.types import Citation, Passage

SUPPORT_THRESHOLD = 0.5
SEMANTIC_THRESHOLD = 0.6
MARKER = re.compile(r"\s*\[(\d{1,2})\](?:\s*\[(\d{1,2})\])*")
_ANY_MARKER = re.compile(r"\[(\d{1,2})\]")


@dataclass
class SentenceSupport:
    score: float  # weighted share of the statement's terms found in the sentence (0..1)
    start: int  # absolute offsets in the article body
    end: int
    quote: str


@dataclass
class Statement:
    text: str  # without markers
    cited: list[int] = field(default_factory=list)  # 1-based passage numbers


def best_support(
    statement: str,
    passage: Passage,
    weight: Weights | None = None,
    similarity: Callable[[str, list[str]], list[float]] | None = None,
) -> SentenceSupport | None:
    """The passage sentence that best supports ``statement`` (or None for an empty passage)."""
    statement_terms = set(terms(statement))
    spans = sentence_spans(passage.text)
    if not spans:
        return None
    weight = weight or (lambda term: 1.0)
    total = math.fsum(weight(t) for t in statement_terms) or 1.0  # order-free (sets)
    # Names and numbers must be in the supporting sentence, unless the statement is quoted
    # verbatim from the passage (the extractive answerer's are; a sentence split differently
    # there may spread its names over two of our sentences).
    names = set() if _verbatim(statement, passage.text) else specifics(statement)
    title = specifics(passage.title, all_words=True)
    scored = []
    for start, end in spans:
        sentence = passage.text[start:end]
        sentence_terms = set(terms(sentence))
        score = math.fsum(weight(t) for t in statement_terms & sentence_terms) / total
        if names and not names <= specifics(sentence, all_words=True) | title:
            score = 0.0  # a name or number the sentence doesn't hold: not its support
        scored.append((score, start, end))
    if similarity is not None:
        cosines = similarity(statement, [passage.text[s:e] for _, s, e in scored])
        scored = [
            (_semantic(score) if cos >= SEMANTIC_THRESHOLD else score, s, e)
            for (score, s, e), cos in zip(scored, cosines, strict=True)
        ]
    score, start, end = max(scored)
    return SentenceSupport(
        score=score,
        start=passage.start + start,
        end=passage.start + end,
        quote=passage.text[start:end],
    )


_TOKEN = re.compile(r"\w+")  # the same tokens on both sides: "145-134", "U.N.", "Mario's"


def specifics(text: str, all_words: bool = False) -> set[str]:
    """Names and numbers of ``text`` (capitalised words after the first, figures), lowercased.

    A model that writes "Ali Khamenei heads the U.N. nuclear watchdog [1]" over a sentence about
    Rafael Grossi shares most words with it and is semantically close: only the names tell.
    ``all_words``: every word, for the side that must contain them.
    """
    tokens = _TOKEN.findall(text)
    if all_words:
        return {t.lower() for t in tokens}
    found = {t.lower() for t in tokens[1:] if t[0].isupper() or t[0].isdigit()}
    return found - stopwords()


def _verbatim(statement: str, text: str) -> bool:
    words = " ".join(_TOKEN.findall(statement))
    return bool(words) and words in " ".join(_TOKEN.findall(text))


def _semantic(lexical: float) -> float:
    """A semantically close sentence with half the needed words counts as support."""
    return max(lexical, SUPPORT_THRESHOLD) if lexical >= SUPPORT_THRESHOLD / 2 else lexical


# A frame that says nothing about the world ("The answer is: X"): X is the claim that is
# checked and kept; the frame can't be supported by anything (#26: an LLM's "The answer is:
# HACKED" was waved through on an injected line about "the answer").
_FRAME = re.compile(
    r"^(?:the\s+)?(?:short\s+|final\s+|correct\s+)?answer(?:\s+(?:is|would\s+be))?\s*[:\-–]\s*"
    r"|^(?:the\s+)?(?:short\s+|final\s+|correct\s+)?answer\s+(?:is|would\s+be)\s+",
    re.IGNORECASE,
)


def claim_of(statement: str) -> str:
    """``statement`` without an answer frame: "The answer is: HACKED." -> "HACKED."."""
    return _FRAME.sub("", statement, count=1).strip()


def split_statements(draft: str) -> list[Statement]:
    """Sentences of a draft answer with the [n] markers that follow or end them."""
    statements = []
    for start, end in sentence_spans(draft):
        sentence = draft[start:end]
        cited = [int(n) for n in _ANY_MARKER.findall(sentence)]
        text = _ANY_MARKER.sub("", sentence)
        text = claim_of(re.sub(r"\s+([.,;:!?])", r"\1", text).strip())
        if text and not re.fullmatch(r"[\W_]*", text):
            statements.append(Statement(text, cited))
        elif cited and statements:  # a marker that landed after the sentence break
            statements[-1].cited.extend(cited)
    return statements


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    dropped: list[str]  # statements removed as unsupported
    moved: int  # citations moved to the passage that supports them

    @property
    def refused(self) -> bool:
        return not self.citations


def verify(
    draft: str,
    passages: Sequence[Passage],
    weight: Weights | None = None,
    similarity: Callable[[str, list[str]], list[float]] | None = None,
) -> Verified:
    """Keep only supported statements, each citing a passage that supports it (see module doc)."""
    kept: list[tuple[str, list[tuple[int, SentenceSupport]]]] = []
    dropped: list[str] = []
    moved = 0
    for statement in split_statements(draft):
        cited = [n for n in dict.fromkeys(statement.cited) if 1 <= n <= len(passages)]
        # The cited passages first: most statements are supported where they say they are, and
        # then the others need not be read at all.
        chosen = _supported(statement.text, cited, passages, weight, similarity)
        if not chosen:
            others = [n for n in range(1, len(passages) + 1) if n not in cited]
            elsewhere = _supported(statement.text, others, passages, weight, similarity)
            if not elsewhere:
                dropped.append(statement.text)
                continue
            chosen = [max(elsewhere, key=lambda item: item[1].score)]
            moved += bool(statement.cited)
        kept.append((statement.text, chosen))

    numbers: dict[tuple[int, int], int] = {}  # (passage, quote start) -> citation number
    citations: list[Citation] = []
    parts: list[str] = []
    for text, chosen in kept:
        markers = []
        for n, support in chosen:
            key = (n, support.start)
            if key not in numbers:
                numbers[key] = len(citations) + 1
                citations.append(make_citation(numbers[key], passages[n - 1], support))
            markers.append(f"[{numbers[key]}]")
        body = text.rstrip()
        trailing = body[-1] if body and body[-1] in ".!?" else ""
        body = body[:-1] if trailing else body
        parts.append(f"{body} {''.join(markers)}{trailing or '.'}")
    return Verified(" ".join(parts), citations, dropped, moved)


def _supported(statement, numbers, passages, weight, similarity):
    found = []
    for n in numbers:
        support = best_support(statement, passages[n - 1], weight, similarity)
        if support is not None and support.score >= SUPPORT_THRESHOLD:
            found.append((n, support))
    return found


def make_citation(n: int, passage: Passage, support: SentenceSupport) -> Citation:
    return Citation(
        n=n,
        article_id=passage.article_id,
        chunk_id=passage.chunk_id,
        title=passage.title,
        source=passage.source,
        url=passage.url,
        published_date=passage.published_date,
        quote=support.quote,
        start=support.start,
        end=support.end,
        score=round(support.score, 3),
        passage=passage.text,
        passage_start=passage.start,
    )


def citation_supports(statement: str, citation: Citation, weight: Weights | None = None) -> bool:
    """Whether a citation's quoted sentence, read alone, supports ``statement`` (the lexical
    support test above): what citation precision and recall count."""
    quote = Passage(
        chunk_id=citation.chunk_id,
        article_id=citation.article_id,
        title=citation.title,
        text=citation.quote,
        start=citation.start,
        end=citation.end,
    )
    support = best_support(statement, quote, weight)
    return support is not None and support.score >= SUPPORT_THRESHOLD
