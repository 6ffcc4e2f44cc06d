"""How sure we are that a candidate sentence answers the question, and which span of it is the
short answer: the trained reader, or the hand-set weights it replaced.

The trained reader is three logistic models over the features below (``sentence_features``,
``span_features``, and ``confidence_features`` of the whole shortlist, which decides
refusals), trained on the 2022 quiz questions of ``../shared/data/realtimeqa-train`` by
``newsrag train-reader`` (eval/train_reader.py, docs/reader.md). One sentence feature is
how the cross-encoder (``cross_encoder.py``) reads the question against the sentence beside
the shortlist's best reading (``read_candidates``). Its artefact, ``reader.json`` beside this
file, holds the weights, the feature standardisation, the thresholds (refusal: calibrated
to hold on every library shape it was given; short answer: on the train set's
cross-validation and each check set; the lower one from which a span's sentence leads: on the
cross-validation), the name of its cross-encoder,
the hash of the data it was trained on and its metrics. A span is a named entity or, where
no entity label fits the question ("What sport ...?"), a noun phrase. Logistic models
because they are small, deterministic, read in microseconds and can be read by a person; a
sentence's score is the probability that it holds the answer; the confidence is the
probability that the shortlist answers the question, and the refusal threshold one of it.

``WeightedScorer`` is the previous scorer (weights tuned by hand on the dev set), kept as the
``extractive_scorer="weights"`` configuration for comparison.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from rag.answer.base import AnswerContext
from rag.answer.candidates import POSITION_UNIT, Candidate, gather, shortlist
from rag.answer.cross_encoder import CrossEncoder, reader_passage
from rag.answer.entities import DATES, NUMBERS, PHRASE, PLACES, TIERS, clean_span, fitting
from rag.answer.question import ANCHOR_MIN_CHARS, word_set
from rag.errors import NewsragError
from rag.lexicon import terms

SHIPPED_MODEL = Path(__file__).with_name("reader.json")
# The reader before the cross-encoder (the same features less ``reading``): the "logistic"
# configuration, kept for comparison.
LOGISTIC_MODEL = Path(__file__).with_name("reader-logistic.json")
# The cross-encoder's logit is clipped here: beyond it a sentence is as sure either way, and
# a few extreme logits must not stretch the feature's scale.
READING_CLIP = 8.0
MODEL_FORMAT = 1
# A count feature (entities, rivals, supporting passages) stops growing here: beyond it, more
# says nothing new and would only stretch the scale.
COUNT_CAP = 5
# Features are rounded to this many decimals: float noise from thread scheduling in the
# embedding model (1e-7) must not change a trained model (same data -> the same file).
FEATURE_DECIMALS = 5
_QUOTE = re.compile(r"[\"“”]")


class ReaderError(NewsragError, ValueError):
    """A reader model file that can't be used; the message names it."""


# ----------------------------------------------------------------------------- features
def reader_candidates(context: AnswerContext, max_passages: int) -> list[Candidate]:
    """The sentences a scorer sees for ``context``: shortlisted, features measured."""
    return shortlist(context, gather(context, max_passages))


SENTENCE_FEATURES = (
    "cosine", "overlap", "window", "asking", "novelty", "context", "title", "rank", "freshness",
    "typed", "typed_question", "typed_and_asked", "labels_known", "fits", "fits_one",
    "new_entities", "position", "lead", "same_article", "words", "headline", "quote", "reading",
    "reading_margin",
)  # fmt: skip
# Features a model may do without: a model trained before them still loads (and is given
# nothing it would need a further model for).
READING_FEATURES = frozenset({"reading", "reading_margin"})  # the cross-encoder's
# The span feature its span head gives (a model with it needs a cross-encoder that has one).
SPAN_READING_FEATURES = frozenset({"span_reading"})
# Noun-phrase spans and how a span fits the noun the question asks for: a span model without
# them is given named entities only.
PHRASE_FEATURES = frozenset({"phrase", "answer_noun", "noun_fit", "attached"})
# The confidence feature the cross-encoder gives (its best reading of the shortlist).
CONFIDENCE_READING_FEATURES = frozenset({"best_reading"})
OPTIONAL_FEATURES = (
    READING_FEATURES | PHRASE_FEATURES | SPAN_READING_FEATURES | CONFIDENCE_READING_FEATURES
)


def read_candidates(
    candidates: list[Candidate], context: AnswerContext, encoder: CrossEncoder
) -> None:
    """Set each candidate's ``reading`` (the cross-encoder's logit for the question and the
    sentence with its title), ``reading_margin`` (that less the best of the shortlist) and
    ``encoder_reading`` (all it read, for the span head)."""
    passages = [reader_passage(c.text, context.passages[c.passage - 1].title) for c in candidates]
    for candidate, reading in zip(
        candidates, encoder.read(context.question, passages), strict=True
    ):
        candidate.reading = _clipped(reading.logit)
        candidate.encoder_reading = reading
    best = max((c.reading for c in candidates), default=0.0)
    for candidate in candidates:
        candidate.reading_margin = candidate.reading - best


def _clipped(logit: float) -> float:
    return max(min(logit, READING_CLIP), -READING_CLIP)


# What the confidence model weighs about the whole shortlist: the best sentence's probability
# (as a logit) and cosine, and the best cross-encoder reading of any sentence. Chosen from
# twelve in a probe (docs/reader.md): the rest added nothing to the ROC area on the 2023
# questions. The second-best sentence's probability added to it on libraries holding several
# stories of each event, but measures that redundancy, not the answer: it refused "Who cut
# the ribbon?" over a search filtered to the one article that says who did.
CONFIDENCE_FEATURES = ("best", "best_reading", "best_cosine")
# Probabilities are read as logits clipped here: 1e-4 and 0.9999 are as sure as it gets.
PROBABILITY_FLOOR = 1e-4


def confidence_features(ranked: Sequence[Candidate]) -> dict[str, float]:
    """What the confidence model weighs about a question's shortlist (``ranked``: scored by
    the sentence model, best first; not empty)."""
    return _rounded(
        {
            "best": _logit(ranked[0].score),
            "best_reading": max(c.reading for c in ranked),
            "best_cosine": ranked[0].cosine,
        }
    )


def _logit(probability: float) -> float:
    p = min(max(probability, PROBABILITY_FLOOR), 1 - PROBABILITY_FLOOR)
    return math.log(p / (1 - p))


def sentence_features(candidate: Candidate, context: AnswerContext) -> dict[str, float]:
    """What the reader weighs about one shortlisted sentence (``candidates.shortlist``)."""
    typed_question = context.kind != "entity"
    fits = len(candidate.first_tier(context.entity_labels))
    return _rounded(
        {
            "cosine": candidate.cosine,
            "overlap": candidate.overlap,
            "window": candidate.window,
            "asking": candidate.asking,
            "novelty": candidate.novelty,
            "context": candidate.context,
            "title": candidate.title,
            "rank": candidate.rank,
            "freshness": candidate.freshness,
            "typed": float(candidate.typed),
            "typed_question": float(typed_question),
            "typed_and_asked": float(candidate.typed and typed_question),
            "labels_known": float(context.entity_labels is not None),
            "fits": math.log1p(min(fits, COUNT_CAP)),
            "fits_one": float(fits == 1),
            "new_entities": math.log1p(min(candidate.new_entities, COUNT_CAP)),
            "position": math.log1p(candidate.position / POSITION_UNIT),
            "lead": float(candidate.position == 0),
            "same_article": math.log1p(min(candidate.same_article, COUNT_CAP)),
            "words": math.log(len(candidate.text.split())),
            "headline": float(candidate.text[-1:] not in ".!?\"”'’"),
            "quote": float(bool(_QUOTE.search(candidate.text))),
            "reading": candidate.reading,
            "reading_margin": candidate.reading_margin,
        }
    )


@dataclass
class Span:
    """A named entity or noun phrase of a candidate sentence that could be the short answer."""

    text: str
    label: str
    sentence: Candidate  # the sentence it is in: the answer leads with it
    features: dict[str, float]
    probability: float = 0.0


SPAN_FEATURES = (
    "labels_known", "first_tier", "rivals", "new_share", "words", "anchor_distance", "support",
    "in_title", "place_in_sentence", "sentence_probability",
    "person", "organisation", "place", "group", "number", "date", "other",
    "phrase", "answer_noun", "noun_fit", "attached", "span_reading",
)  # fmt: skip
_LABEL_GROUPS = {
    "person": frozenset({"PERSON"}),
    "organisation": frozenset({"ORG"}),
    "place": PLACES | {"GPE"},
    "group": frozenset({"NORP"}),
    "number": NUMBERS,
    "date": DATES,
    "phrase": frozenset({PHRASE}),
}


# Spans are read from this many best-scored sentences. Measured with noun phrases (train
# 5-fold CV / the 2023 questions over the two-year library: first sentence, short answers
# accuracy / precision): all 12, 32 spans a question, 0.647 / 0.714, 0.081 / 0.862 and
# 0.102 / 0.909; the best 3: 0.641 / 0.704, 0.061 / 0.864, 0.092 / 0.900; 4: 0.647 / 0.714,
# 0.110 / 0.850, 0.143 / 0.933 (14 spans); 6: 0.650 / 0.714, 0.094 / 0.853, 0.112 / 0.917.
# Fewer spans to embed, too: all 12 took 91 ms at the 90th percentile.
SPAN_SENTENCES = 4


def question_spans(
    ranked: list[Candidate], context: AnswerContext, phrases: bool = True
) -> list[Span]:
    """The spans of the candidates that could be the short answer (``span_candidates``).
    With ``phrases`` (a span model that weighs them): noun phrases too, how each span fits
    the noun the question asks for (the embedding cosine of "sport" and "chess", one batch
    for all), and only from the ``SPAN_SENTENCES`` best-scored candidates."""
    if phrases:
        ranked = sorted(ranked, key=lambda c: -c.score)[:SPAN_SENTENCES]
    ranked = in_named_window(ranked, context)
    spans = [span for candidate in ranked for span in span_candidates(candidate, context, phrases)]
    noun = context.answer_noun if phrases else None
    fits = context.similarity(noun, [s.text for s in spans]) if noun and spans else []
    for span, fit in zip(spans, fits or [0.0] * len(spans), strict=True):
        span.features |= _rounded({"answer_noun": float(noun is not None), "noun_fit": fit})
    return spans


def in_named_window(candidates: list[Candidate], context: AnswerContext) -> list[Candidate]:
    """The candidates published in the window the question names, when it names one that only
    weighs ("in 2019") and any of them is: asked about 2019, a 2023 story's span must not be
    the short answer however sure the span head is of it (the sentence model weighs the
    window through retrieval; the span model does not)."""
    window = context.boost
    if window is None:
        return candidates
    inside = [
        c for c in candidates if window.contains(context.passages[c.passage - 1].published_date)
    ]
    return inside or candidates


def span_candidates(
    candidate: Candidate, context: AnswerContext, phrases: bool = False
) -> list[Span]:
    """The named entities of ``candidate`` that could be the short answer, with what the span
    model weighs (but ``question_spans``'s fit to the asked noun). When the question's labels
    are known only entities of those labels count (never a place for "who"); otherwise any
    entity the question doesn't already name, and with ``phrases`` its noun phrases too
    ("pink eye" for "what symptom")."""
    labels = context.entity_labels
    passage = context.passages[candidate.passage - 1]
    asked = word_set(context.question)
    named = candidate.named
    every_label = frozenset(e.label for e in named)
    spans = list(dict.fromkeys(fitting(named, asked, labels or every_label, passage.source)))
    if phrases and labels is None:
        known = {text for text, _ in spans}
        said = fitting(candidate.phrases, asked, frozenset({PHRASE}), passage.source)
        spans += [(text, label) for text, label in dict.fromkeys(said) if text not in known]
    if not spans:
        return []
    first_tier = (
        next((t for t in TIERS.get(labels, (labels,)) if any(lb in t for _, lb in spans)), labels)
        if labels is not None
        else frozenset()
    )
    sentence = candidate.text
    anchors = [
        m.start() for m in re.finditer(r"[\w’']+", sentence)
        if len(m.group()) >= ANCHOR_MIN_CHARS and m.group().lower() in asked
    ]  # fmt: skip
    others = [p.text for n, p in enumerate(context.passages, 1) if n != candidate.passage]
    # The word each span attaches to in the parse (when parsed): "pardoning people ... for
    # simple marijuana possession" attaches to a word the question has.
    question_terms = set(terms(context.question))
    governors = {clean_span(e.text): e.governor for e in [*named, *candidate.phrases] if e.governor}
    found: list[Span] = []
    for text, label in spans:
        found_at = sentence.find(text)
        where = max(found_at, 0)
        words = text.split()
        distance = min((abs(where - a) for a in anchors), default=len(sentence))
        group = next((g for g, members in _LABEL_GROUPS.items() if label in members), "other")
        features = {
            "labels_known": float(labels is not None),
            "first_tier": float(label in first_tier),
            "rivals": math.log1p(min(len(spans) - 1, COUNT_CAP)),
            "new_share": sum(1 for w in words if w.lower() not in asked) / len(words),
            "words": math.log(len(words)),
            "anchor_distance": distance / max(len(sentence), 1),
            "support": math.log1p(min(sum(text in other for other in others), COUNT_CAP)),
            "in_title": float(text in passage.title),
            "place_in_sentence": where / max(len(sentence), 1),
            "sentence_probability": candidate.score,
            "attached": float(bool(set(terms(governors.get(text) or "")) & question_terms)),
            "span_reading": _span_reading(candidate, found_at, len(text)),
        }
        features |= {g: float(g == group) for g in [*_LABEL_GROUPS, "other"]}
        found.append(Span(text, label, candidate, _rounded(features)))
    return found


def _span_reading(candidate: Candidate, start: int, length: int) -> float:
    """The span head's logit for the span at ``start`` of the candidate's sentence (which
    begins its reading's passage); a span it didn't read counts as one it doesn't believe."""
    reading = candidate.encoder_reading
    logit = reading.span_logit(start, start + length) if reading and start >= 0 else None
    return -READING_CLIP if logit is None else _clipped(logit)


def _rounded(features: dict[str, float]) -> dict[str, float]:
    return {name: round(value, FEATURE_DECIMALS) for name, value in features.items()}


# ----------------------------------------------------------------------------- models
@dataclass(frozen=True)
class Logistic:
    """A logistic model on standardised features: p = sigmoid(bias + w . (x - mean) / scale)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def probability(self, row: dict[str, float]) -> float:
        z = self.bias + sum(
            w * (row[name] - m) / s
            for name, m, s, w in zip(
                self.features, self.mean, self.scale, self.weights, strict=True
            )
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "bias": self.bias,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], expected: Sequence[str]) -> Logistic:
        model = cls(
            features=tuple(data["features"]),
            mean=tuple(map(float, data["mean"])),
            scale=tuple(map(float, data["scale"])),
            weights=tuple(map(float, data["weights"])),
            bias=float(data["bias"]),
        )
        unknown = set(model.features) - set(expected)
        missing = set(expected) - set(model.features) - OPTIONAL_FEATURES
        if unknown or missing:
            raise ValueError(f"features unknown: {sorted(unknown)}, missing: {sorted(missing)}")
        if not len(model.features) == len(model.mean) == len(model.scale) == len(model.weights):
            raise ValueError("features, mean, scale and weights differ in length")
        return model


@dataclass(frozen=True)
class ReaderModel:
    sentence: Logistic
    span: Logistic
    refusal_threshold: float  # below it the confidence means "refuse"
    short_answer_threshold: float  # a span at least this likely is the short answer
    provenance: dict[str, Any]  # data hashes, seed, metrics: how it was made
    # The cross-encoder weights whose logits the ``reading`` feature is, beside the model
    # file; None for a model without that feature.
    cross_encoder: str | None = None
    # A span at least this likely puts its sentence first, even when not sure enough to be
    # shown as the short answer (<= short_answer_threshold); None: the short answer's.
    lead_threshold: float | None = None
    # P(the library answers the question) from the whole shortlist (``confidence_features``),
    # which the refusal threshold is then a probability of; None: the best sentence's.
    confidence: Logistic | None = None
    # Where the model file (and its cross-encoder) is: not part of what the model is.
    folder: Path = field(default=SHIPPED_MODEL.parent, compare=False)

    @property
    def needs_reading(self) -> bool:
        confidence = set(self.confidence.features) if self.confidence else set()
        return (
            bool(READING_FEATURES & set(self.sentence.features))
            or bool(CONFIDENCE_READING_FEATURES & confidence)
            or self.reads_spans
        )

    @property
    def reads_spans(self) -> bool:
        """Whether its span model weighs the cross-encoder's span head."""
        return bool(SPAN_READING_FEATURES & set(self.span.features))

    @property
    def span_lead_threshold(self) -> float:
        """How likely a span must be for its sentence to lead the answer."""
        if self.lead_threshold is None:
            return self.short_answer_threshold
        return min(self.lead_threshold, self.short_answer_threshold)

    @property
    def reads_phrases(self) -> bool:
        """Whether its span model weighs noun phrases (older models: named entities only)."""
        return "phrase" in self.span.features

    @property
    def cross_encoder_path(self) -> Path | None:
        return self.folder / self.cross_encoder if self.cross_encoder else None

    @property
    def fingerprint(self) -> str:
        """A short hash of the model: what eval's answer cache is keyed on."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": MODEL_FORMAT,
                "sentence": self.sentence.to_dict(),
                "span": self.span.to_dict(),
                "refusal_threshold": self.refusal_threshold,
                "short_answer_threshold": self.short_answer_threshold,
                # Written only when set: a model from before them keeps its bytes (fingerprint).
                **(
                    {"lead_threshold": self.lead_threshold}
                    if self.lead_threshold is not None
                    else {}
                ),
                **({"confidence": self.confidence.to_dict()} if self.confidence else {}),
                "provenance": self.provenance,
                "cross_encoder": self.cross_encoder,
            },
            indent=1,
            sort_keys=True,
        )

    def save(self, path: Path) -> None:
        """Written whole or not at all (a temporary file renamed over the old one)."""
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(self.to_json() + "\n", encoding="utf-8")
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path = SHIPPED_MODEL) -> ReaderModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != MODEL_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {MODEL_FORMAT}")
            model = cls(
                sentence=Logistic.from_dict(data["sentence"], SENTENCE_FEATURES),
                span=Logistic.from_dict(data["span"], SPAN_FEATURES),
                refusal_threshold=float(data["refusal_threshold"]),
                short_answer_threshold=float(data["short_answer_threshold"]),
                provenance=dict(data.get("provenance", {})),
                cross_encoder=data.get("cross_encoder"),
                lead_threshold=_optional_float(data.get("lead_threshold")),
                confidence=(
                    Logistic.from_dict(data["confidence"], CONFIDENCE_FEATURES)
                    if "confidence" in data
                    else None
                ),
                folder=path.parent,
            )
            if model.needs_reading and model.cross_encoder_path is None:
                raise ValueError("it weighs the cross-encoder's reading but names no weights")
            return model
        except OSError as error:
            raise ReaderError(f"reader model {path}: cannot read ({error.strerror})") from None
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            detail = f"missing {error}" if isinstance(error, KeyError) else str(error)
            raise ReaderError(f"reader model {path}: not a reader model ({detail})") from None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


# ----------------------------------------------------------------------------- scorers
@dataclass(frozen=True)
class AnswerSpan:
    """The span whose sentence leads the answer, and whether the scorer is sure enough of it
    to show it as the short answer."""

    span: Span
    shown: bool


class SentenceScorer(Protocol):
    name: str
    version: str  # changes whenever the scores may
    refusal_threshold: float

    def score(self, candidates: list[Candidate], context: AnswerContext) -> None:
        """Set each candidate's ``score`` (higher: more likely the answer)."""

    def answer_span(self, ranked: list[Candidate], context: AnswerContext) -> AnswerSpan | None:
        """The span whose sentence leads (``ranked``: scored, best first), shown as the short
        answer when sure; None when no span is likely enough to lead."""

    def confidence(self, ranked: list[Candidate]) -> float:
        """How sure it is that ``ranked`` (scored, best first; not empty) answers the
        question: below ``refusal_threshold`` it refuses."""


class TrainedReader:
    name = "reader"

    def __init__(
        self,
        model: ReaderModel,
        refusal_threshold: float | None = None,
        encoder: CrossEncoder | None = None,
    ):
        if model.needs_reading and encoder is None:
            raise ReaderError("this reader model needs its cross-encoder")
        if model.reads_spans and not encoder.has_span_head:
            raise ReaderError(
                f"this reader model weighs a span head, which cross-encoder {encoder.weights} "
                "lacks: retrain the reader over it, or fit one (train-cross-encoder "
                "--span-head-only)"
            )
        self.model = model
        self.encoder = encoder
        self.version = f"reader-{model.fingerprint}"
        self.refusal_threshold = (
            model.refusal_threshold if refusal_threshold is None else refusal_threshold
        )

    def score(self, candidates: list[Candidate], context: AnswerContext) -> None:
        if self.encoder is not None and self.model.needs_reading:
            read_candidates(candidates, context, self.encoder)
        for candidate in candidates:
            candidate.score = self.model.sentence.probability(sentence_features(candidate, context))

    def ranked_spans(self, ranked: list[Candidate], context: AnswerContext) -> list[Span]:
        """The spans ``question_spans`` reads (noun phrases too, from the best sentences,
        when the model weighs them), most probable answer first."""
        spans = question_spans(ranked, context, self.model.reads_phrases)
        for span in spans:
            span.probability = self.model.span.probability(span.features)
        return sorted(spans, key=lambda s: -s.probability)

    def confidence(self, ranked: list[Candidate]) -> float:
        if self.model.confidence is None:
            return ranked[0].score
        return self.model.confidence.probability(confidence_features(ranked))

    def answer_span(self, ranked: list[Candidate], context: AnswerContext) -> AnswerSpan | None:
        spans = self.ranked_spans(ranked, context)
        if not spans or spans[0].probability < self.model.span_lead_threshold:
            return None
        return AnswerSpan(spans[0], shown=spans[0].probability >= self.model.short_answer_threshold)


class WeightedScorer:
    """The hand-tuned score the trained reader replaced (dev-set weights, docs/refusal.md)."""

    name = "weights"
    version = "weights-2025"
    weights: ClassVar[dict[str, float]] = {
        "cosine": 0.45,
        "overlap": 0.45,
        "context": 0.15,
        "type": 0.1,
    }
    # In the final score the rank prior only nudges: 1 - rank_influence for the last passage.
    rank_influence = 0.1
    untyped_penalty = 0.85  # score factor for a typed question's sentence without such a span
    default_refusal_threshold = 0.48  # calibrated on the dev set (docs/refusal.md)

    def __init__(self, refusal_threshold: float | None = None):
        self.refusal_threshold = (
            self.default_refusal_threshold if refusal_threshold is None else refusal_threshold
        )

    def score(self, candidates: list[Candidate], context: AnswerContext) -> None:
        weights = self.weights
        for candidate in candidates:
            candidate.score = (
                (
                    weights["cosine"] * candidate.cosine
                    + weights["overlap"] * candidate.overlap
                    + weights["context"] * candidate.context
                    + weights["type"] * candidate.typed
                )
                * (1 - self.rank_influence + self.rank_influence * candidate.rank)
                * candidate.freshness
            )
            if not candidate.typed and context.kind != "entity":
                candidate.score *= self.untyped_penalty

    def confidence(self, ranked: list[Candidate]) -> float:
        return ranked[0].score

    def answer_span(self, ranked: list[Candidate], context: AnswerContext) -> AnswerSpan | None:
        """The best sentence's one span of the first fitting tier, shown; several: none
        (choosing is a guess)."""
        if not ranked:
            return None
        spans = ranked[0].first_tier(context.entity_labels)
        if len(spans) != 1:
            return None
        label = next(label for span, label in ranked[0].fitting if span == spans[0])
        return AnswerSpan(Span(spans[0], label, ranked[0], {}), shown=True)


def short_answer(
    scorer: SentenceScorer, ranked: list[Candidate], context: AnswerContext
) -> Span | None:
    """The span ``scorer`` is sure enough of to show as the short answer, or None."""
    chosen = scorer.answer_span(ranked, context)
    return chosen.span if chosen is not None and chosen.shown else None
