"""The default answerer: the best 1-3 sentences of the retrieved passages, no LLM needed.

Each candidate sentence is scored on
- meaning: embedding cosine between question and sentence;
- words: the share of the question's content words (weighted by rarity) in the sentence, and
  in the sentence's passage with its title (the context a reader sees);
- answer type: a who/how-many/when/where question wants a sentence holding a name, number,
  date or place that the question doesn't already contain;
- rank: a small prior for passages retrieval put first;
- age: the recency prior (``AnswerContext.recency``): a years-old near-miss must not outrank,
  or answer in place of, the article the question is about.
The best sentence leads; more follow while they score close to it and the answer stays within
``MAX_WORDS``. Below ``refusal_threshold`` (calibrated on the dev set, see docs/refusal.md) the
answerer refuses instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from rag.answer.base import AnswerContext, Answerer, Draft
from rag.answer.entities import sure_short_answer
from rag.answer.question import candidate_spans
from rag.lexicon import terms
from rag.text import sentence_spans

MAX_WORDS = 60
MIN_SENTENCE_WORDS = 4  # shorter pieces are datelines, bylines and captions, never an answer
# Link promos inside article bodies ("More:Joe Biden walks ...", "WATCH:US jets ..."): a
# headline of another story, never an answer. Only at the start, with no space after the colon.
PROMO = re.compile(r"^[A-Z][\w'’ .-]{0,40}:(?=[^\s\d/])")


@dataclass
class Candidate:
    passage: int  # 1-based
    start: int  # offsets in the passage text
    end: int
    text: str
    overlap: float = 0.0
    context: float = 0.0
    cosine: float = 0.0
    spans: list[str] | None = None
    score: float = 0.0


class ExtractiveAnswerer(Answerer):
    name = "extractive"
    quotes_verbatim = True

    # Tuned on the dev set (benchmarks/quality.py); see docs/refusal.md.
    weights: ClassVar[dict[str, float]] = {
        "cosine": 0.45,
        "overlap": 0.45,
        "context": 0.15,
        "type": 0.1,
    }
    shortlist = 12  # sentences scored with the embedding model (16: +0.006, +40 ms)
    filler_ratio = 0.8  # another article's sentence must score this share of the best
    same_article_ratio = 0.0  # same-article context often holds the answer (dev: 0.72 vs 0.69)
    filler_overlap = 0.01  # and share a question word: costs dev 0.011, removes pure filler
    max_sentences = 4  # within MAX_WORDS; news sentences are long, so usually 2-3
    untyped_penalty = 0.85  # score factor for a typed question's sentence without such a span
    # Retrieval rank as a prior: passage n counts 1 / (1 + rank_decay * (n - 1)) (n=5: 0.5).
    rank_decay = 0.25
    # Pre-ranking before the embedding model (word overlap only): the passage's share of the
    # question's words counts this much beside the sentence's own.
    shortlist_context = 0.3
    # In the final score the rank prior only nudges: 1 - rank_influence for the last passage.
    rank_influence = 0.1

    def __init__(self, refusal_threshold: float = 0.48, max_passages: int = 8):
        self.refusal_threshold = refusal_threshold
        self.max_passages = max_passages

    def score(self, context: AnswerContext) -> list[Candidate]:
        asked = set(terms(context.retrieval_query))
        total = sum(context.weight(t) for t in asked) or 1.0

        def share(terms: set[str]) -> float:
            return sum(context.weight(t) for t in asked & terms) / total

        candidates: list[Candidate] = []
        seen: set[tuple[str, int]] = set()
        passages = context.passages[: self.max_passages]
        fresh = {n: context.freshness(p) for n, p in enumerate(passages, 1)}
        for number, passage in enumerate(passages, 1):
            passage_terms = set(terms(f"{passage.title}\n{passage.text}"))
            passage_share = share(passage_terms)
            for start, end in sentence_spans(passage.text):
                key = (passage.article_id, passage.start + start)
                text = passage.text[start:end]
                if key in seen or len(text.split()) < MIN_SENTENCE_WORDS or PROMO.match(text):
                    continue
                seen.add(key)
                sentence_terms = set(terms(text))
                if sentence_terms and sentence_terms <= asked:
                    continue  # says nothing the question doesn't
                candidates.append(
                    Candidate(number, start, end, text, share(sentence_terms), passage_share)
                )
        if not candidates:
            return []
        rank = {n: 1.0 / (1 + self.rank_decay * (n - 1)) for n in fresh}
        candidates.sort(
            key=lambda c: (
                -(c.overlap + self.shortlist_context * c.context)
                * rank[c.passage]
                * fresh[c.passage]
            )
        )
        shortlist = candidates[: self.shortlist]
        cosines = context.similarity(context.question, [c.text for c in shortlist])
        for candidate, cosine in zip(shortlist, cosines, strict=True):
            candidate.cosine = cosine
            candidate.spans = candidate_spans(candidate.text, context.kind, context.question)
            typed = 1.0 if candidate.spans else 0.0
            weights = self.weights
            candidate.score = (
                (
                    weights["cosine"] * cosine
                    + weights["overlap"] * candidate.overlap
                    + weights["context"] * candidate.context
                    + weights["type"] * typed
                )
                * (1 - self.rank_influence + self.rank_influence * rank[candidate.passage])
                * fresh[candidate.passage]
            )
            if not typed and context.kind != "entity":
                candidate.score *= self.untyped_penalty
        return sorted(shortlist, key=lambda c: -c.score)

    def draft(self, context: AnswerContext) -> Draft:
        ranked = self.score(context)
        if not ranked:
            return Draft(text="", confidence=0.0, refused=True, debug={"reason": "no sentences"})
        best = ranked[0]
        debug = {
            "best_score": round(best.score, 4),
            "threshold": self.refusal_threshold,
            "top": [
                {"passage": c.passage, "score": round(c.score, 3), "cosine": round(c.cosine, 3),
                 "overlap": round(c.overlap, 3), "text": c.text[:120]}
                for c in ranked[:5]
            ],
        }  # fmt: skip
        chosen = [best]
        words = len(best.text.split())
        # Fill the word budget in score order (packing by score per word was tried: worse).
        # A further sentence must be close in score, or come from the best sentence's article.
        best_passage = context.passages[best.passage - 1]
        best_article = best_passage.article_id
        for candidate in ranked[1:]:
            same_article = context.passages[candidate.passage - 1].article_id == best_article
            needed = self.same_article_ratio if same_article else self.filler_ratio
            if candidate.score < best.score * needed or candidate.overlap < self.filler_overlap:
                continue  # unrelated filler reads badly even when it is "nearby"
            if len(chosen) == self.max_sentences:
                break
            extra = len(candidate.text.split())
            if words + extra <= MAX_WORDS:
                chosen.append(candidate)
                words += extra
        text = " ".join(_with_marker(_trim(c.text), c.passage) for c in chosen)
        if best.score < self.refusal_threshold:
            return Draft(
                text="", confidence=best.score, refused=True, withheld_text=text, debug=debug
            )
        short = sure_short_answer(
            best.text, context.question, context.entity_labels, best_passage.source
        )
        return Draft(text=text, short_answer=short, confidence=best.score, debug=debug)


def _trim(sentence: str) -> str:
    """Sentences over the word cap are cut at a word boundary (rare in news)."""
    words = sentence.split()
    if len(words) <= MAX_WORDS:
        return sentence
    return " ".join(words[:MAX_WORDS]) + " …"


def _with_marker(sentence: str, passage: int) -> str:
    if sentence[-1:] in ".!?":
        return f"{sentence[:-1]} [{passage}]{sentence[-1]}"
    return f"{sentence} [{passage}]."  # a headline has no full stop: end it, or it runs on
