"""The reader's model file and the training rules, without the embedding or NER model."""

from __future__ import annotations

import hashlib
import json
import math
from types import SimpleNamespace

import pytest

from eval.train_reader import (
    FALSE_REFUSAL_BUDGET,
    FOLDS,
    Calibration,
    Question,
    SpanExamples,
    fit,
    fold_of,
    lead_threshold,
    reader_figures,
    refusal_threshold,
    short_answer_threshold_held,
)
from rag.answer.base import AnswerContext
from rag.answer.candidates import Candidate
from rag.answer.cross_encoder import Reading
from rag.answer.entities import WHO, Entity
from rag.answer.reader import (
    CONFIDENCE_FEATURES,
    LOGISTIC_MODEL,
    PROBABILITY_FLOOR,
    READING_CLIP,
    READING_FEATURES,
    SENTENCE_FEATURES,
    SHIPPED_MODEL,
    SPAN_FEATURES,
    SPAN_READING_FEATURES,
    SPAN_SENTENCES,
    Logistic,
    ReaderError,
    ReaderModel,
    TrainedReader,
    confidence_features,
    question_spans,
)
from rag.types import Passage


def _logistic(names, weights, bias=0.0):
    return Logistic(tuple(names), (0.0,) * len(names), (1.0,) * len(names), weights, bias)


def _model(**changes) -> ReaderModel:
    fields = {
        "sentence": _logistic(SENTENCE_FEATURES, (0.5,) * len(SENTENCE_FEATURES)),
        "span": _logistic(SPAN_FEATURES, (-0.25,) * len(SPAN_FEATURES), bias=1.0),
        "refusal_threshold": 0.3,
        "short_answer_threshold": 0.6,
        "provenance": {"seed": 1},
        "cross_encoder": "cross_encoder.safetensors",
    }
    return ReaderModel(**(fields | changes))


def test_probability_is_the_logistic_of_the_standardised_features():
    model = Logistic(("a", "b"), (1.0, 0.0), (2.0, 1.0), (1.5, -2.0), 0.25)
    z = 0.25 + 1.5 * (3.0 - 1.0) / 2.0 - 2.0 * 0.5
    assert model.probability({"a": 3.0, "b": 0.5}) == pytest.approx(1 / (1 + math.exp(-z)))


def test_fit_agrees_with_scikit_learn_and_separates_the_classes():
    rows = [{"x": float(i), "y": float(i % 3)} for i in range(40)]
    labels = [row["x"] > 25 for row in rows]
    model = fit(rows, labels, ("x", "y"), c=1.0)
    assert model.probability({"x": 39.0, "y": 0.0}) > 0.9
    assert model.probability({"x": 0.0, "y": 0.0}) < 0.1
    assert fit(rows, labels, ("x", "y"), c=1.0) == model  # deterministic


def test_model_file_round_trip(tmp_path):
    path = tmp_path / "reader.json"
    model = _model()
    model.save(path)
    loaded = ReaderModel.load(path)
    assert loaded == model
    assert loaded.fingerprint == model.fingerprint
    assert _model(refusal_threshold=0.31).fingerprint != model.fingerprint
    assert not path.with_name("reader.json.tmp").exists()


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: d.pop("span"), "missing 'span'"),
        (lambda d: d.update(format=99), "format 99"),
        (lambda d: d["sentence"]["features"].pop(), "features"),
        (lambda d: d["span"]["weights"].pop(), "differ in length"),
    ],
)
def test_a_damaged_model_file_is_named_with_what_is_wrong(tmp_path, damage, message):
    path = tmp_path / "reader.json"
    data = json.loads(_model().to_json())
    damage(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ReaderError, match=f"reader model {path}: not a reader model.*{message}"):
        ReaderModel.load(path)


def test_missing_or_non_json_model_file(tmp_path):
    with pytest.raises(ReaderError, match="cannot read"):
        ReaderModel.load(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{ not json")
    with pytest.raises(ReaderError, match="not a reader model"):
        ReaderModel.load(tmp_path / "bad.json")


def test_the_shipped_model_loads_and_says_how_it_was_made():
    model = ReaderModel.load(SHIPPED_MODEL)
    provenance = model.provenance
    assert provenance["train"]["folder"] == "realtimeqa-train"
    assert len(provenance["train"]["sha256"]) == 64
    for part in ("train_cv", "train_fit", "dev"):
        assert 0.0 < provenance["metrics"][part]["best_sentence_accuracy"] <= 1.0
    assert 0.0 < model.refusal_threshold < 1.0
    assert SHIPPED_MODEL.stat().st_size < 10 * 1024 * 1024  # the size bound
    assert model.needs_reading and model.cross_encoder == "cross_encoder.safetensors"
    assert model.reads_spans  # the cross-encoder's span head
    assert model.confidence is not None  # refusals from the whole shortlist
    assert set(model.confidence.features) == set(CONFIDENCE_FEATURES)
    assert provenance["metrics"]["train_cv"]["held_out_questions"] > 100
    # Trained over the very weights shipped beside it, not only over the same data.
    weights = hashlib.sha256(model.cross_encoder_path.read_bytes()).hexdigest()
    assert provenance["cross_encoder"]["weights_sha256"] == weights


def test_the_logistic_reader_before_it_still_loads_without_a_cross_encoder():
    model = ReaderModel.load(LOGISTIC_MODEL)
    assert not model.needs_reading and model.cross_encoder_path is None
    assert TrainedReader(model).encoder is None


def test_a_model_that_reads_needs_its_cross_encoder(tmp_path):
    with pytest.raises(ReaderError, match="needs its cross-encoder"):
        TrainedReader(_model())
    data = json.loads(_model().to_json())
    data["cross_encoder"] = None
    path = tmp_path / "reader.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ReaderError, match="names no weights"):
        ReaderModel.load(path)


def test_a_model_that_weighs_the_span_head_needs_a_cross_encoder_with_one():
    model = _model()
    assert model.reads_spans and model.needs_reading
    headless = SimpleNamespace(has_span_head=False, weights="old_encoder.safetensors")
    with pytest.raises(ReaderError, match=r"old_encoder\.safetensors lacks"):
        TrainedReader(model, encoder=headless)
    unread = [f for f in SPAN_FEATURES if f not in SPAN_READING_FEATURES]
    sentences_only = _model(span=_logistic(unread, (0.0,) * len(unread)))
    assert not sentences_only.reads_spans
    assert TrainedReader(sentences_only, encoder=headless).encoder is headless


def test_a_span_reads_as_its_start_end_and_inside_pieces_say():
    # "Tom Becker cut": pieces Tom | Becker | cut, terms (start, end, inside) each.
    reading = Reading(
        logit=1.0,
        pieces=((0, 3), (4, 10), (11, 14)),
        terms=((2.0, -1.0, 0.5), (0.0, 3.0, 1.5), (-2.0, -2.0, -1.0)),
        whole=0.25,
    )
    assert reading.span_logit(0, 10) == pytest.approx(0.25 + 2.0 + 3.0 + (0.5 + 1.5) / 2)
    assert reading.span_logit(4, 10) == pytest.approx(0.25 + 0.0 + 3.0 + 1.5)
    assert reading.span_logit(20, 25) is None  # cut off: not among the pieces read
    assert Reading(logit=1.0).span_logit(0, 3) is None  # no span head


def test_the_span_feature_is_the_clipped_head_logit_and_unread_spans_count_against():
    text = "Mayor Tom Becker cut the ribbon on the new bridge."
    context = _who_cut_the_ribbon(text)
    named = [Entity("Tom Becker", "PERSON", 6, 16)]
    candidate = Candidate(1, 0, len(text), text, named=named)
    (unread,) = question_spans([candidate], context)
    assert unread.features["span_reading"] == -READING_CLIP
    pieces = ((0, 5), (6, 9), (10, 16))
    candidate.encoder_reading = Reading(0.0, pieces, ((0, 0, 0), (20.0, 0, 0), (0, 0, 0)))
    (read,) = question_spans([candidate], context)
    assert read.features["span_reading"] == READING_CLIP  # 20 clipped


def test_folds_are_balanced_and_fixed_by_the_seed():
    folds = fold_of(103)
    assert folds == fold_of(103)
    counts = [folds.count(f) for f in range(FOLDS)]
    assert max(counts) - min(counts) <= 1
    assert folds != fold_of(103, seed=7)


def test_refusal_threshold_keeps_false_refusals_within_budget():
    answerable = [(i / 100, True) for i in range(1, 101)]  # confidences 0.01 .. 1.00
    unanswerable = [(0.02, False), (0.5, False)]
    threshold = refusal_threshold(answerable + unanswerable)
    refused_answerable = sum(c < threshold for c, _ in answerable)
    assert refused_answerable == int(FALSE_REFUSAL_BUDGET * 100)
    assert threshold > 0.02  # the low unanswerable one is refused


def test_llm_markers_of_the_reordered_prompt_map_back_to_retrieval_numbers():
    from rag.answer.llm import renumber

    order = [2, 0, 1]  # the prompt showed passage 3 first, then 1, then 2
    assert renumber("A [1]. B [2][3]. C [4].", order) == "A [3]. B [1][2]. C [4]."


def test_the_lead_threshold_is_kept_and_never_above_the_short_answer_threshold(tmp_path):
    path = tmp_path / "reader.json"
    model = _model(lead_threshold=0.4)
    model.save(path)
    assert ReaderModel.load(path) == model and model.span_lead_threshold == 0.4
    assert _model(lead_threshold=0.9).span_lead_threshold == 0.6
    # A model from before it: a span leads from the short-answer threshold, as it did.
    older = ReaderModel.load(LOGISTIC_MODEL)
    assert older.lead_threshold is None
    assert older.span_lead_threshold == older.short_answer_threshold
    assert not older.reads_phrases and _model().reads_phrases


def _one_answerable(labels: list[bool]) -> Question:
    return Question(SimpleNamespace(answerable=True), None, [], [], labels)


def test_a_likely_span_puts_its_sentence_first_though_not_sure_enough_to_be_shown():
    questions = [_one_answerable([False, True])]  # the second sentence holds the answer
    sentence_scores = [[0.9, 0.5]]
    spans = [SpanExamples(rows=[{}], labels=[True], sentences=[1])]
    span_scores = [[0.5]]  # its span: below the short-answer threshold 0.6
    alone = reader_figures(questions, sentence_scores, spans, span_scores, 0.6)
    assert (alone.lead_right, alone.given) == (0, 0)
    led = reader_figures(questions, sentence_scores, spans, span_scores, 0.6, None, 0.4)
    assert (led.lead_right, led.given) == (1, 0)
    assert lead_threshold(questions, sentence_scores, spans, span_scores, 0.6) == 0.5


def test_a_lower_lead_threshold_must_win_by_more_than_noise():
    def questions_of(right_first: int, neither: int, helped: int):
        none = SpanExamples(rows=[], labels=[], sentences=[])
        led = SpanExamples(rows=[{}], labels=[True], sentences=[1])  # a span of sentence 2
        rows = [([True, False], none, [])] * right_first + [([False, False], none, [])] * neither
        rows += [([False, True], led, [0.3])] * helped  # its span: likely, not sure (< 0.6)
        return (
            [_one_answerable(labels) for labels, _, _ in rows],
            [[0.9, 0.5]] * len(rows),
            [spans for _, spans, _ in rows],
            [scores for _, _, scores in rows],
        )

    # One question of 40 helped (0.775 against 0.75): within a standard error (0.066).
    assert lead_threshold(*questions_of(30, 9, 1), short_threshold=0.6) == 0.6
    # Ten helped (0.75 against 0.5): well beyond it.
    assert lead_threshold(*questions_of(20, 10, 10), short_threshold=0.6) == 0.3


def test_the_short_answer_threshold_rises_until_each_check_set_holds_its_precision():
    def checked(span_probabilities: list[float], right: list[bool]) -> Calibration:
        count = len(right)
        return Calibration(
            "2023",
            [_one_answerable([True]) for _ in range(count)],
            True,
            scores=[[0.9]] * count,
            spans=[SpanExamples(rows=[{}], labels=[r], sentences=[0]) for r in right],
            span_scores=[[p] for p in span_probabilities],
        )

    # From train CV's 0.5 two short answers, one wrong; from 0.7 only the right one.
    check = checked([0.6, 0.7], [False, True])
    assert short_answer_threshold_held([check], 0.5) == 0.7
    assert short_answer_threshold_held([check], 0.65) == 0.65  # only the right one from there
    held = checked([0.6, 0.7], [True, True])
    assert short_answer_threshold_held([held], 0.5) == 0.5  # it holds already: unchanged
    wrong = checked([0.6, 0.7], [False, False])
    assert short_answer_threshold_held([wrong], 0.5) > 0.7  # no short answer at all


def _who_cut_the_ribbon(text: str) -> AnswerContext:
    """A "who" question over one passage of ``text`` (no embedding model: cosines 0)."""
    passage = Passage(
        chunk_id="c1", article_id="a1", title="Bridge", text=text, start=0, end=len(text)
    )
    return AnswerContext(
        question="Who cut the ribbon?",
        retrieval_query="Who cut the ribbon?",
        passages=[passage],
        kind="person",
        entity_labels=WHO,
        weight=lambda term: 1.0,
        similarity=lambda query, others: [0.0] * len(others),
    )


def test_answer_span_leads_from_one_threshold_and_is_shown_from_the_other():
    text = "Mayor Tom Becker cut the ribbon on the new bridge."
    context = _who_cut_the_ribbon(text)
    candidate = Candidate(1, 0, len(text), text, named=[Entity("Tom Becker", "PERSON", 6, 16)])
    plain = [f for f in SENTENCE_FEATURES if f not in READING_FEATURES]
    unread = [f for f in SPAN_FEATURES if f not in SPAN_READING_FEATURES]
    even = _logistic(unread, (0.0,) * len(unread))  # every span: 0.5

    def reader(**thresholds) -> TrainedReader:
        sentences = _logistic(plain, (0.5,) * len(plain))
        return TrainedReader(
            _model(sentence=sentences, span=even, cross_encoder=None, **thresholds)
        )

    chosen = reader(lead_threshold=0.4).answer_span([candidate], context)
    assert chosen is not None and chosen.span.text == "Tom Becker" and not chosen.shown
    assert reader().answer_span([candidate], context) is None  # leads from 0.6 as well
    shown = reader(short_answer_threshold=0.5).answer_span([candidate], context)
    assert shown is not None and shown.shown


def test_spans_are_read_from_the_best_scored_sentences_only():
    names = ["Ann Lee", "Bo Park", "Cy Young", "Di Fox", "Ed Ma", "Flo Rida"]
    texts = [f"{name} cut the ribbon on the bridge." for name in names]
    text = " ".join(texts)
    context = _who_cut_the_ribbon(text)
    candidates = []
    for number, (name, sentence) in enumerate(zip(names, texts, strict=True)):
        start = text.index(sentence)
        entity = Entity(name, "PERSON", 0, len(name))
        candidate = Candidate(1, start, start + len(sentence), sentence, named=[entity])
        candidate.score = [0.2, 0.9, 0.1, 0.8, 0.7, 0.6][number]
        candidates.append(candidate)
    read = [s.text for s in question_spans(candidates, context)]
    assert len(read) == SPAN_SENTENCES == 4 and read == ["Bo Park", "Di Fox", "Ed Ma", "Flo Rida"]
    # A span model from before noun phrases reads every sentence, as it was trained to.
    assert len(question_spans(candidates, context, phrases=False)) == len(names)


def _ranked(*shortlist: tuple[float, float, float]) -> list[Candidate]:
    """Scored candidates, best first: (sentence probability, reading, cosine) each."""
    ranked = []
    for score, reading, cosine in shortlist:
        candidate = Candidate(1, 0, 5, "Text.")
        candidate.score, candidate.reading, candidate.cosine = score, reading, cosine
        ranked.append(candidate)
    return ranked


def test_the_confidence_reads_the_whole_shortlist():
    features = confidence_features(_ranked((0.8, -1.0, 0.5), (0.2, 3.0, 0.7)))
    assert features["best"] == pytest.approx(math.log(4), abs=1e-5)
    assert features["best_reading"] == 3.0  # the shortlist's best, whichever sentence it is
    assert features["best_cosine"] == 0.5  # the best sentence's
    assert set(features) == set(CONFIDENCE_FEATURES)
    floor = math.log(PROBABILITY_FLOOR / (1 - PROBABILITY_FLOOR))
    certain = confidence_features(_ranked((1.0, 0.0, 0.0)))
    assert certain["best"] == pytest.approx(-floor, abs=1e-5)  # clipped, not infinite


def test_a_confidence_model_decides_refusals_and_is_kept_in_the_file(tmp_path):
    plain = [f for f in SENTENCE_FEATURES if f not in READING_FEATURES]
    unread = [f for f in SPAN_FEATURES if f not in SPAN_READING_FEATURES]
    parts = {
        "sentence": _logistic(plain, (0.5,) * len(plain)),
        "span": _logistic(unread, (0.0,) * len(unread)),
        "cross_encoder": None,
    }
    by_cosine = _logistic(("best", "best_cosine"), (0.0, 4.0), bias=-2.0)
    model = _model(**parts, confidence=by_cosine)
    path = tmp_path / "reader.json"
    model.save(path)
    assert ReaderModel.load(path) == model
    assert model.fingerprint != _model(**parts).fingerprint
    ranked = _ranked((0.9, 0.0, 0.1), (0.5, 0.0, 0.8))
    assert TrainedReader(model).confidence(ranked) == pytest.approx(1 / (1 + math.exp(1.6)))
    assert TrainedReader(_model(**parts)).confidence(ranked) == 0.9  # without: the best's
    # One that weighs the cross-encoder's best reading needs the cross-encoder.
    reading = _model(**parts, confidence=_logistic(CONFIDENCE_FEATURES, (0.1,) * 3))
    assert reading.needs_reading
    with pytest.raises(ReaderError, match="needs its cross-encoder"):
        TrainedReader(reading)
