"""The answer stage's models in bfloat16 (``answer_precision``): the real MiniLM and the shipped
cross-encoder read as they do in float32, within a small tolerance, and each passage keeps its
own logit whatever order the batches read them in."""

from __future__ import annotations

import pytest

import rag
from rag.answer import build_answerer
from rag.models import LocalEmbedding, uses_bfloat16

QUESTION = "Which state passed a law banning children under 14 from social media?"
# Of different lengths, so that reading shortest first reorders them.
PASSAGES = [
    "Governor Ron DeSantis said children under 14 spend far too long on social media apps, "
    "and that parents had asked the state for help for years (from: Florida's new law)",
    "Florida passed a law on Monday banning children under 14 from social media.",
    "The city council approved a new budget for road repairs on Tuesday.",
    "Snow is expected in the mountains this weekend, forecasters said, with up to a foot "
    "in the highest passes and strong winds along the ridges through Sunday night",
    "Shares fell.",
]
# bfloat16 keeps 8 bits of mantissa; measured on 480 dev pairs, logits moved by 0.006 (median)
# and 0.04 at most, cosines by 0.002 at most.
LOGIT_TOLERANCE = 0.1
COSINE_TOLERANCE = 0.01


@pytest.fixture(scope="module")
def weights():
    return rag.ReaderModel.load(rag.SHIPPED_MODEL).cross_encoder_path


def test_each_passage_keeps_its_own_logit_when_batches_are_read_shortest_first(weights):
    encoder = rag.CrossEncoder(weights, precision="float32")
    together = encoder.logits(QUESTION, PASSAGES)
    alone = [encoder.logits(QUESTION, [passage])[0] for passage in PASSAGES]
    assert together == pytest.approx(alone, abs=1e-4)
    assert encoder.logits(QUESTION, []) == []


def test_the_cross_encoder_reads_in_bfloat16_as_in_float32(weights):
    exact = rag.CrossEncoder(weights, precision="float32").logits(QUESTION, PASSAGES)
    half = rag.CrossEncoder(weights, precision="bfloat16")
    assert half.bfloat16
    read = half.logits(QUESTION, PASSAGES)
    assert read != exact  # it did compute in bfloat16 ...
    assert read == pytest.approx(exact, abs=LOGIT_TOLERANCE)  # ... and reads the same


def test_the_shortlist_cosine_in_bfloat16_is_float32s_and_stored_vectors_stay_float32():
    exact = LocalEmbedding(similarity_precision="float32")
    half = LocalEmbedding(similarity_precision="bfloat16")
    assert half.similarity_bfloat16 and not exact.similarity_bfloat16
    cosines, exact_cosines = (m.similarity(QUESTION, PASSAGES) for m in (half, exact))
    assert cosines != exact_cosines
    assert cosines == pytest.approx(exact_cosines, abs=COSINE_TOLERANCE)
    # What is stored and searched (chunks, the query) is float32 whatever the setting.
    assert half.encode(PASSAGES) == exact.encode(PASSAGES)


def test_auto_takes_bfloat16_only_where_the_cpu_has_it(monkeypatch):
    import torch

    for native in (True, False):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda n=native: n)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
        assert uses_bfloat16("auto") is native
        assert uses_bfloat16("bfloat16") and not uses_bfloat16("float32")


def test_cached_answers_of_one_precision_are_not_taken_for_the_others(tmp_path):
    versions = {
        precision: build_answerer(
            "extractive", rag.load_settings(data_dir=tmp_path, answer_precision=precision)
        ).version
        for precision in ("float32", "bfloat16")
    }
    assert versions["float32"] != versions["bfloat16"]
    assert versions["bfloat16"].endswith("/bfloat16")
