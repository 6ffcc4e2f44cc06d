"""The cross-encoder reader: trained for a few steps on a fixture with the real MiniLM weights,
written small, loaded offline; the shipped weights load and read."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

import rag
from eval.errors import EvalError
from eval.reader_pairs import PairSources, build_pairs, cloze_question
from eval.train_cross_encoder import BATCH, HeldOut, Trainer, schedule, train_cross_encoder
from eval.train_span_head import chosen_pairs, span_targets
from tests.support import NEWSRAG, subprocess_env
from tests.support.reader_set import write_reader_sets

pytestmark = pytest.mark.slow

AFTER_THE_FIXTURE = "9999-12-31"  # the fixture's fictional news is dated 2024


@pytest.fixture(scope="module")
def fixture_pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    train, _ = write_reader_sets(root)
    sources = PairSources(
        quiz=[train], corpora=[train / "corpus.jsonl"], cloze_questions=20,
        before=AFTER_THE_FIXTURE,
    )  # fmt: skip
    return train, build_pairs(sources, seed=7, progress=lambda line: None)


def test_pairs_hold_positives_and_negatives_of_each_kind(fixture_pairs):
    _, pairs = fixture_pairs
    kinds = {(p.origin, p.label) for p in pairs}
    assert {("quiz", 1), ("quiz", 0), ("held-out", 0), ("cloze", 1), ("cloze", 0)} <= kinds
    # A quiz positive holds its question's answer; the same data and seed give the same pairs.
    train, _ = fixture_pairs
    answers = {
        q["question"]: q["answer"]
        for q in map(json.loads, (train / "questions.jsonl").read_text().splitlines())
    }
    assert all(answers[p.question] in p.passage for p in pairs if p.origin == "quiz" and p.label)
    again = build_pairs(
        PairSources([train], [train / "corpus.jsonl"], 20, before=AFTER_THE_FIXTURE), seed=7,
        progress=lambda line: None,
    )  # fmt: skip
    assert again == pairs


def test_articles_of_the_hidden_years_are_never_read(fixture_pairs):
    train, _ = fixture_pairs
    sources = PairSources([train], [train / "corpus.jsonl"], 20)  # the default cut-off: 2024
    assert build_pairs(sources, seed=7, progress=lambda line: None) == []


def test_a_cloze_question_asks_for_the_entity_by_its_type():
    import random

    sentence = "Florida passed a law banning children under 14 from social media."
    question = cloze_question(sentence, 0, len("Florida"), "GPE", random.Random(1))
    assert question.startswith("Which state")
    assert "Florida" not in question and question.endswith("?")


def _loss(trainer: Trainer, pairs) -> float:
    import torch

    trainer.model.eval()
    with torch.inference_mode():
        logits = trainer.model(**trainer.encode(pairs)).logits[:, 0]
        labels = torch.tensor([float(p.label) for p in pairs])
        return float(torch.nn.functional.binary_cross_entropy_with_logits(logits, labels))


def test_training_lowers_the_loss_and_changes_only_the_top(fixture_pairs):
    _, pairs = fixture_pairs
    order = schedule(pairs, seed=3)[:64]
    trainer = Trainer(steps=12, seed=3)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    first = _loss(trainer, order)
    for step in range(12):
        trainer.train_step(order[(step % 2) * 32 : (step % 2 + 1) * 32])
    assert _loss(trainer, order) < first * 0.8
    changed = {n for n, p in trainer.model.named_parameters() if not p.equal(before[n])}
    assert changed and all(rag.cross_encoder_trains(n) for n in changed)
    assert not any(n.startswith("bert.embeddings") for n in changed)


def test_the_span_loss_trains_the_encoder_to_say_which_span_answers(fixture_pairs):
    import torch

    _, pairs = fixture_pairs
    chosen = chosen_pairs(pairs, seed=3)[:32]
    spans = span_targets(chosen)
    assert any(t.answer for targets in spans for t in targets)
    assert any(not t.answer for targets in spans for t in targets)
    joint = Trainer(steps=12, seed=3, span_loss=1.0)

    def span_loss() -> float:
        joint.model.eval()
        with torch.inference_mode():
            return float(joint.losses(chosen, spans)[1])

    first = span_loss()
    for _ in range(12):
        joint.train_step(chosen, spans)
    assert span_loss() < first * 0.8
    # The auxiliary head is training's alone: what ships is what the sentence-only form ships.
    alone = Trainer(steps=12, seed=3)
    assert set(joint.changed()) == set(alone.changed())
    # The span loss reaches the top layers: one step from the same start moves them elsewhere.
    alone.train_step(chosen, spans)
    again = Trainer(steps=12, seed=3, span_loss=1.0)
    again.train_step(chosen, spans)
    top = "bert.encoder.layer.5.output.dense.weight"
    assert not again.changed()[top].equal(alone.changed()[top])


def test_lora_trains_every_layer_and_its_small_file_reads_as_the_trained_model(
    tmp_path, fixture_pairs
):
    _, pairs = fixture_pairs
    order = schedule(pairs, seed=3)[:64]
    trainer = Trainer(steps=24, seed=3, lora=True)  # adapters learn slower than whole layers
    first = _loss(trainer, order)
    for step in range(24):
        trainer.train_step(order[(step % 2) * 32 : (step % 2 + 1) * 32])
    assert _loss(trainer, order) < first * 0.8
    changed = trainer.changed()
    adapted = {n.split(".")[3] for n in changed if ".lora_" in n}  # bert.encoder.layer.N...
    assert adapted == {str(n) for n in range(6)}, adapted
    assert all(".lora_" in n or n.startswith(rag.TRAINED_WHOLE) for n in changed)
    out = tmp_path / "lora.safetensors"
    rag.save_cross_encoder(changed, out, {"seed": 3}, trainer.lora)
    assert out.stat().st_size < 3 * 1024 * 1024
    # Loading merges each adapter into its weight: it reads as the model that trained.
    question = "Who won the race?"
    passages = ["Ana Lopez won the race on Sunday.", "It rained all day in the city."]
    expected = trainer.scores(question, passages)
    loaded = rag.CrossEncoder(out)
    assert loaded.info.lora == trainer.lora
    assert loaded.logits(question, passages) == pytest.approx(expected, abs=0.02)


@pytest.mark.parametrize("lora", [False, True], ids=["top-layers", "lora"])
def test_the_command_writes_small_weights_that_load_and_resumes(tmp_path, fixture_pairs, lora):
    train, _ = fixture_pairs
    _, held_out = write_reader_sets(tmp_path / "held-out", train_count=1, dev_count=2)
    out = tmp_path / "ce.safetensors"
    common = dict(
        quiz=[train], corpora=[train / "corpus.jsonl"], out=out, work=tmp_path / "work",
        cloze_questions=20, seed=5, progress=lambda line: None, before=AFTER_THE_FIXTURE,
        lora=lora, command="newsrag train-cross-encoder --quiz train", held_out=held_out,
    )  # fmt: skip
    first = train_cross_encoder(max_steps=2, **common)
    assert first.steps == 2 and out.stat().st_size < 10 * 1024 * 1024
    info = json.loads(out.with_suffix(".json").read_text())
    assert info["provenance"]["data_sha256"] == first.data_sha256
    assert info["provenance"]["seed"] == 5
    assert info["provenance"]["command"] == "newsrag train-cross-encoder --quiz train"
    assert info["provenance"]["training_minutes"] >= 0
    # Held-out accuracy before and after training, and which set it was measured on.
    assert [point["pairs"] for point in info["provenance"]["curve"]] == [0, 2 * BATCH]
    held_out_set = HeldOut.from_folder(held_out, 5, AFTER_THE_FIXTURE)
    assert info["provenance"]["held_out_sha256"] == held_out_set.sha256
    with pytest.raises(EvalError, match=re.escape(f"--held-out {held_out}: no article in")):
        HeldOut.from_folder(held_out, 5)  # the fixture's news is of 2024: hidden by default
    encoder = rag.CrossEncoder(out)
    scores = encoder.probabilities("Who won?", ["Ana won the race.", "It rained all day."])
    assert len(scores) == 2 and all(0 < s < 1 for s in scores)
    # The same command again finds its checkpoint: nothing left to train, the same weights.
    weights = out.read_bytes()
    again = train_cross_encoder(max_steps=2, **common)
    assert again.data_sha256 == first.data_sha256 and out.read_bytes() == weights


@pytest.mark.parametrize("lora", [False, True], ids=["top-layers", "lora"])
def test_the_same_data_and_seed_give_the_same_file(tmp_path, fixture_pairs, lora):
    """Two fresh runs (no checkpoint to resume): the new head and adapters start the same."""
    train, _ = fixture_pairs
    written = []
    for run in ("first", "second"):
        out = tmp_path / run / "ce.safetensors"
        train_cross_encoder(
            quiz=[train], corpora=[train / "corpus.jsonl"], out=out, work=tmp_path / run / "work",
            cloze_questions=20, seed=5, progress=lambda line: None, before=AFTER_THE_FIXTURE,
            max_steps=2, lora=lora,
        )  # fmt: skip
        written.append(out.read_bytes())
    assert written[0] == written[1]


def test_a_damaged_weights_file_is_a_clear_error(tmp_path):
    weights = tmp_path / "ce.safetensors"
    weights.write_bytes(b"not safetensors")
    weights.with_suffix(".json").write_text(
        json.dumps({"trained_layers": 2, "max_tokens": 96, "provenance": {}})
    )
    with pytest.raises(rag.NewsragError, match=f"cross-encoder {weights}: cannot read"):
        rag.CrossEncoder(weights)
    weights.with_suffix(".json").unlink()
    with pytest.raises(rag.NewsragError, match="cannot read"):
        rag.CrossEncoder(weights)


def test_weights_of_another_shape_or_a_bad_lora_description_are_clear_errors(tmp_path):
    import torch

    model, _ = rag.cross_encoder_base()
    weights = tmp_path / "ce.safetensors"
    wrong = {n: torch.zeros(1) for n, _ in model.named_parameters() if rag.cross_encoder_trains(n)}
    rag.save_cross_encoder(wrong, weights, {})
    with pytest.raises(rag.NewsragError, match=f"cross-encoder {weights}: tensors that don't fit"):
        rag.CrossEncoder(weights)
    description = weights.with_suffix(".json")
    data = json.loads(description.read_text())
    description.write_text(json.dumps({**data, "lora": {"rank": 0, "alpha": 32}}))
    with pytest.raises(rag.NewsragError, match=r"not a model description \(LoRA rank 0"):
        rag.CrossEncoder(weights)


def test_the_shipped_reader_reads_with_its_cross_encoder():
    model = rag.ReaderModel.load(rag.SHIPPED_MODEL)
    assert model.needs_reading and model.cross_encoder_path.is_file()
    assert model.cross_encoder_path.stat().st_size < 10 * 1024 * 1024  # the bound
    encoder = rag.CrossEncoder(model.cross_encoder_path)
    provenance = encoder.info.provenance
    assert provenance["data_sha256"] and provenance["seed"] and provenance["pairs"]
    question = "Which state passed a law banning children under 14 from social media?"
    right = "Florida passed a law on Monday banning children under 14 from social media."
    topical = "Governor Ron DeSantis said children under 14 spend too long on social media."
    unrelated = "The city council approved a new budget for road repairs on Tuesday."
    scores = encoder.probabilities(question, [right, topical, unrelated])
    assert scores[0] > scores[1] > scores[2]


def test_the_command_line_says_what_is_wrong_with_a_folder(tmp_path):
    run = subprocess.run(
        [*NEWSRAG, "train-cross-encoder", "--quiz", str(tmp_path)],
        capture_output=True, text=True, env=subprocess_env(), timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert f"--quiz {tmp_path}: no questions.jsonl in it" in run.stderr
    assert "Traceback" not in run.stderr


def test_the_span_head_is_fitted_over_the_encoder_and_reads_as_it_was_fitted(
    tmp_path, fixture_pairs
):
    from safetensors.torch import load_file

    from eval.train_span_head import add_span_head, chosen_pairs, head_logits, read_spans
    from rag.answer.cross_encoder import SHIPPED_WEIGHTS

    _, pairs = fixture_pairs
    weights = tmp_path / "cross_encoder.safetensors"  # the shipped encoder without its head
    shipped = rag.CrossEncoder(SHIPPED_WEIGHTS)
    encoder_only = {
        n: t for n, t in load_file(str(SHIPPED_WEIGHTS)).items() if n not in rag.SPAN_HEAD
    }
    rag.save_cross_encoder(encoder_only, weights, shipped.info.provenance, shipped.info.lora)
    headless = rag.CrossEncoder(weights)
    held_out = [p for p in pairs if p.origin == "quiz"]
    fitted = add_span_head(weights, pairs, held_out, seed=4, progress=lambda line: None)
    encoder = rag.CrossEncoder(weights)
    assert encoder.has_span_head and not headless.has_span_head
    assert encoder.info.span_head == fitted and fitted["answer_spans"] > 0
    assert weights.stat().st_size < 10 * 1024 * 1024
    # The encoder is as it was: the same logits.
    question, passages = held_out[0].question, [p.passage for p in held_out[:4]]
    assert encoder.logits(question, passages) == pytest.approx(headless.logits(question, passages))
    # Reading a span at answer time gives the logit the fit gave it (float16 weights apart).
    chosen = chosen_pairs(pairs, seed=4)
    spans = read_spans(chosen, encoder)
    stored = load_file(str(weights))
    weight, bias = (stored[name].float() for name in rag.SPAN_HEAD)
    expected = head_logits(spans, weight, bias)
    found = rag.mentions([rag.passage_sentence(p.passage) for p in chosen], phrases=True)
    checked = 0
    for i, pair in enumerate(chosen[:6]):
        reading = encoder.read(pair.question, [pair.passage])[0]
        rows = [r for r, of in enumerate(spans.pair_of) if of == i]
        seen = {e.text: (e.start, e.end) for e in [*found[i].entities, *found[i].phrases]}
        logits = [reading.span_logit(*where) for where in seen.values()]
        read = [z for z in logits if z is not None]
        assert read == pytest.approx([expected[r] for r in rows], abs=1e-3)
        checked += len(read)
    assert checked > 0
    # It learned something: its answer span comes first more often than a guess would.
    assert fitted["train_top1"] > spans.chance


def test_a_span_head_needs_an_encoder_to_fit_over(tmp_path, fixture_pairs):
    from eval.errors import EvalError

    train, _ = fixture_pairs
    with pytest.raises(EvalError, match="no cross-encoder there"):
        train_cross_encoder(
            [train], [], tmp_path / "missing.safetensors", tmp_path / "work",
            cloze_questions=0, before=AFTER_THE_FIXTURE, span_head_only=True,
            progress=lambda line: None,
        )  # fmt: skip
