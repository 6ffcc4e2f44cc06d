"""``newsrag train-reader`` retrains the reader on a small fixture, with the real models."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

import rag
from eval import EvalError
from eval.runner import corpus_library
from eval.train_reader import train_reader
from tests.support import NEWSRAG, subprocess_env
from tests.support.reader_set import write_reader_sets

pytestmark = pytest.mark.slow


@dataclass
class Trained:
    root: Path
    train: Path
    dev: Path
    out: Path
    run: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("reader")
    train, dev = write_reader_sets(root)
    out = root / "reader.json"
    run = subprocess.run(
        [*NEWSRAG, "train-reader", "--train", str(train), "--dev", str(dev),
         "--out", str(out), "--cache", str(root / "cache")],
        capture_output=True, text=True, env=subprocess_env(), timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return Trained(root, train, dev, out, run)


def test_the_command_writes_a_model_with_its_provenance(trained):
    model = rag.ReaderModel.load(trained.out)
    provenance = model.provenance
    assert provenance["train"]["folder"] == "train"
    assert provenance["calibration"]["dev"] == "dev"
    metrics = provenance["metrics"]
    assert metrics["train_cv"]["questions"] == 32
    # The fixture's answer sentences are learnable: a broken feature or label would miss them.
    assert metrics["train_cv"]["first_sentence_accuracy"] >= 0.9
    assert metrics["dev"]["first_sentence_accuracy"] >= 0.9
    assert metrics["dev"]["false_refusal"] <= 0.1
    # Refusals: learnt from the train questions asked with their gold articles held out (the
    # fixture's other towns' articles then fill the shortlist, none holding the answer) and
    # asked of their gold article alone.
    assert model.confidence is not None
    assert metrics["train_cv"]["held_out_questions"] >= 25
    assert metrics["train_cv"]["alone_questions"] == 32
    assert metrics["train_cv"]["refusal_roc_area"] >= 0.9
    assert "first_sentence_accuracy" in trained.run.stdout
    assert "refusal threshold" in trained.run.stdout


def test_same_data_same_model(trained):
    root = trained.root
    again = train_reader(
        trained.train, trained.dev, out=root / "again.json", cache_dir=root / "cache"
    )
    assert (root / "again.json").read_bytes() == trained.out.read_bytes()
    assert again.model.fingerprint == rag.ReaderModel.load(trained.out).fingerprint


def test_the_engine_answers_with_the_retrained_model(trained):
    # The dev library the command built (cached: found again, not rebuilt).
    dev_library = corpus_library(
        [trained.dev / "corpus.jsonl"], rag.load_settings(), trained.root / "cache"
    )
    engine = rag.open_engine(dev_library, reader_model=trained.out)
    question = json.loads((trained.dev / "questions.jsonl").read_text().splitlines()[3])
    answer = engine.ask(question["question"], as_of=question["question_date"])
    assert not answer.refused
    assert question["answer"] in answer.text.split(". ")[0]
    assert answer.debug["answerer"]["scorer"] == "reader"
    refusal = engine.ask("Which orchestra toured Saltmarsh last winter?", as_of="2024-05-28")
    assert refusal.refused


def test_a_folder_without_questions_is_a_clear_error(tmp_path):
    (tmp_path / "train").mkdir()
    run = subprocess.run(
        [*NEWSRAG, "train-reader", "--train", str(tmp_path / "train"), "--dev", str(tmp_path)],
        capture_output=True, text=True, env=subprocess_env(), timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert f"--train {tmp_path / 'train'}: no questions.jsonl in it" in run.stderr
    assert "Traceback" not in run.stderr


def test_an_output_path_without_its_folder_is_refused_before_training(tmp_path):
    train, dev = write_reader_sets(tmp_path)
    out = tmp_path / "missing" / "reader.json"
    with pytest.raises(EvalError, match=f"--out {out}: no folder {out.parent}"):
        train_reader(train, dev, out=out, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # nothing was built


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({"dev_corpus": ["{root}/gone.jsonl"]}, "--dev-corpus {root}/gone.jsonl: no such file"),
        ({"train_corpus": ["{root}/gone.jsonl"]}, "--train-corpus {root}/gone.jsonl: no such file"),
        ({"check": ["{root}"]}, "--check {root}: no questions.jsonl in it"),
    ],
    ids=["missing-dev-corpus", "missing-train-corpus", "check-without-questions"],
)
def test_a_missing_input_is_named_by_its_flag_before_anything_is_built(tmp_path, inputs, said):
    train, dev = write_reader_sets(tmp_path, train_count=4, dev_count=2)
    given = {name: [Path(p.format(root=tmp_path)) for p in paths] for name, paths in inputs.items()}
    with pytest.raises(EvalError) as raised:
        train_reader(train, dev, cache_dir=tmp_path / "cache", **given)
    assert str(raised.value) == said.format(root=tmp_path)
    assert not (tmp_path / "cache").exists()  # nothing was built


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--cross-encoder-steps", "2"], "--cross-encoder-steps: only with --cross-encoder-corpus"),
        (
            ["--cross-encoder-corpus", "{train}/corpus.jsonl", "--cross-encoder", "{root}/ce.st"],
            "--cross-encoder {root}/ce.st: must be in the folder of --out {root}/model/reader.json",
        ),
        (
            ["--cross-encoder-corpus", "{root}/missing.jsonl"],
            "--cross-encoder-corpus {root}/missing.jsonl: no such file",
        ),
    ],
    ids=["steps-without-training", "weights-elsewhere", "missing-cross-encoder-corpus"],
)
def test_the_one_command_refuses_what_it_could_not_finish_before_training(tmp_path, options, said):
    train, dev = write_reader_sets(tmp_path, train_count=4, dev_count=2, year=2023)
    (tmp_path / "model").mkdir()
    values = {"train": train, "root": tmp_path}
    run = subprocess.run(
        [*NEWSRAG, "train-reader", "--train", str(train), "--dev", str(dev),
         "--out", str(tmp_path / "model" / "reader.json"), "--cache", str(tmp_path / "cache"),
         *(option.format(**values) for option in options)],
        capture_output=True, text=True, env=subprocess_env(), timeout=120,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert said.format(**values) in " ".join(run.stderr.split())
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "cache").exists()  # nothing was built or trained


def test_one_command_trains_the_cross_encoder_then_the_reader_over_it(tmp_path):
    # Dated 2023: cross-encoder training reads no article of the hidden years (2024 on).
    train, dev = write_reader_sets(tmp_path, train_count=16, dev_count=6, year=2023)
    out = tmp_path / "model" / "reader.json"
    out.parent.mkdir()
    command = [
        *NEWSRAG, "train-reader", "--train", str(train), "--dev", str(dev),
        "--cross-encoder-corpus", str(train / "corpus.jsonl"), "--cross-encoder-steps", "2",
        "--out", str(out), "--cache", str(tmp_path / "cache"),
    ]  # fmt: skip
    first = subprocess.run(
        command, capture_output=True, text=True, env=subprocess_env(), timeout=900
    )
    assert first.returncode == 0, first.stderr
    weights = out.with_name("cross_encoder.safetensors")  # beside the reader, where it loads
    info = rag.cross_encoder_info(weights)
    assert info.provenance["steps"] == 2 and info.span_head is not None
    assert info.provenance["held_out"] is None  # no --check set to score it on
    model = rag.ReaderModel.load(out)
    assert model.provenance["cross_encoder"]["weights_sha256"]
    assert "reading_margin" in model.sentence.features
    assert "refusal threshold" in first.stdout
    # Interrupted after the cross-encoder, run again: it is kept, not trained or fitted again.
    trained_weights, trained_reader = weights.read_bytes(), out.read_bytes()
    again = subprocess.run(
        command, capture_output=True, text=True, env=subprocess_env(), timeout=900
    )
    assert again.returncode == 0, again.stderr
    assert "span head fitted: kept" in again.stderr
    assert weights.read_bytes() == trained_weights
    assert out.read_bytes() == trained_reader  # the same data and weights: the same reader
