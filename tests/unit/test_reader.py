"""The reader's model file and the training rules, without the embedding or NER model."""

from __future__ import annotations

import json
import math

import pytest

from eval.train_reader import (
    FALSE_REFUSAL_BUDGET,
    FOLDS,
    fit,
    fold_of,
    refusal_threshold,
)
from rag.answer.reader import (
    LOGISTIC_MODEL,
    SENTENCE_FEATURES,
    SHIPPED_MODEL,
    SPAN_FEATURES,
    Logistic,
    ReaderError,
    ReaderModel,
    TrainedReader,
)


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
