"""The default answerer: the best 1-3 sentences of the retrieved passages, no LLM needed.

Candidate sentences and what is known about each (meaning, shared words, answer type, named
entities, rank, age, place in the article) come from ``rag.answer.candidates``; a scorer
(``rag.answer.reader``: the trained reader, or the hand-set weights it replaced) turns them
into one score. The best sentence leads, and its short answer (if the scorer is sure of one)
is shown first; more sentences follow while they score close to it and the answer stays within
``MAX_WORDS``. When the scorer's confidence (the trained reader's: a model over the whole
shortlist) is below its refusal threshold (calibrated on several library shapes, see
docs/reader.md) the answerer refuses instead of guessing.
"""

from __future__ import annotations

from rag.answer.base import AnswerContext, Answerer, Draft
from rag.answer.candidates import Candidate
from rag.answer.entities import fullest_name
from rag.answer.reader import SentenceScorer, reader_candidates

MAX_WORDS = 60


class ExtractiveAnswerer(Answerer):
    name = "extractive"
    quotes_verbatim = True

    filler_ratio = 0.8  # another article's sentence must score this share of the best
    same_article_ratio = 0.0  # same-article context often holds the answer (dev: 0.72 vs 0.69)
    filler_overlap = 0.01  # and share a question word: costs dev 0.011, removes pure filler
    max_sentences = 4  # within MAX_WORDS; news sentences are long, so usually 2-3

    def __init__(self, scorer: SentenceScorer, max_passages: int = 8, bfloat16: bool = False):
        self.scorer = scorer
        self.max_passages = max_passages
        # Whether its models compute in bfloat16 (``answer_precision``): a near tie may then
        # go the other way, so cached answers of the other precision are not its own.
        self.bfloat16 = bfloat16

    @property
    def refusal_threshold(self) -> float:
        return self.scorer.refusal_threshold

    @property
    def version(self) -> str:
        precision = "/bfloat16" if self.bfloat16 else ""
        return f"{self.name}/{self.scorer.version}@{self.refusal_threshold}{precision}"

    def score(self, context: AnswerContext) -> list[Candidate]:
        """The shortlisted candidate sentences, best first."""
        candidates = reader_candidates(context, self.max_passages)
        self.scorer.score(candidates, context)
        return sorted(candidates, key=lambda c: -c.score)

    def draft(self, context: AnswerContext) -> Draft:
        ranked = self.score(context)
        if not ranked:
            return Draft(text="", confidence=0.0, refused=True, debug={"reason": "no sentences"})
        best = ranked[0]
        confidence = self.scorer.confidence(ranked)  # refused below the threshold
        # A likely span's sentence leads, though only a sure one is shown as the short answer.
        chosen = self.scorer.answer_span(ranked, context)
        lead = chosen.span.sentence if chosen else best
        short = chosen.span if chosen and chosen.shown else None
        debug = {
            "scorer": self.scorer.name,
            "best_score": round(best.score, 4),
            "confidence": round(confidence, 4),
            "threshold": self.refusal_threshold,
            "top": [
                {"passage": c.passage, "score": round(c.score, 3), "cosine": round(c.cosine, 3),
                 "overlap": round(c.overlap, 3), "text": c.text[:120]}
                for c in ranked[:5]
            ],
        }  # fmt: skip
        chosen = [lead]
        words = len(lead.text.split())
        # Fill the word budget in score order (packing by score per word was tried: worse).
        # A further sentence must be close in score, or come from the lead sentence's article.
        lead_article = context.passages[lead.passage - 1].article_id
        for candidate in ranked:
            if candidate is lead:
                continue
            same_article = context.passages[candidate.passage - 1].article_id == lead_article
            needed = self.same_article_ratio if same_article else self.filler_ratio
            if candidate.score < lead.score * needed or candidate.overlap < self.filler_overlap:
                continue  # unrelated filler reads badly even when it is "nearby"
            if len(chosen) == self.max_sentences:
                break
            extra = len(candidate.text.split())
            if words + extra <= MAX_WORDS:
                chosen.append(candidate)
                words += extra
        text = " ".join(_with_marker(_trim(c.text), c.passage) for c in chosen)
        if confidence < self.refusal_threshold:
            return Draft(
                text="", confidence=confidence, refused=True, withheld_text=text, debug=debug
            )
        return Draft(
            text=text,
            # Named as fully as the passages name it ("Lions" -> "Detroit Lions").
            short_answer=(
                fullest_name(short.text, short.label, [p.text for p in context.passages])
                if short
                else None
            ),
            short_answer_span=short.text if short else None,
            confidence=confidence,
            debug=debug,
        )


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
