"""Fine-tune the shipped MiniLM into the question-sentence cross-encoder (rag.CrossEncoder).

    newsrag train-cross-encoder --quiz ../shared/data/realtimeqa-train \\
        --corpus ../shared/data/realtimeqa-train/corpus.jsonl \\
        --corpus ../shared/data/news-distractors/distractors.jsonl \\
        --held-out ../shared/data/realtimeqa-train-2023 \\
        --out rag/answer/cross_encoder.safetensors

Pairs come from ``eval.reader_pairs`` (quiz questions, the same with their answer's articles
held out, self-supervised cloze questions). One pass over them, the quiz pairs seen
``QUIZ_REPEATS`` times, binary cross-entropy on P(sentence holds the answer); only the top
layers, pooler and head learn. The held-out set (by default the 2023 questions: another year,
no question or article shared with train or dev) is scored every ``EVAL_EVERY`` steps: the
learning curve (pairs seen -> accuracy) that docs/reader.md shows.

Resumable: every ``CHECKPOINT_EVERY`` steps the trained tensors, AdamW's moments and the step
go to ``--work`` (safetensors and JSON, written whole or not at all); the same command goes on
from the last one. The order of pairs and each step's dropout are fixed by the seed and the
step, so a resumed run takes the steps an uninterrupted one would.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import rag
from eval.dataset import load_questions
from eval.errors import EvalError
from eval.progress import Progress
from eval.reader_pairs import (
    FIRST_HIDDEN_DATE,
    Pair,
    PairSources,
    Sentence,
    SentenceIndex,
    build_pairs,
    quiz_pairs,
    read_articles,
    split_sentences,
)
from eval.train_reader import check_given_files, data_files, sha256_of
from eval.train_span_head import (
    SpanTarget,
    add_span_head,
    chosen_pairs,
    span_states,
    span_targets,
)

SEED = 2022
BATCH = 32
LEARNING_RATE = 5e-5  # the top layers; the fresh head learns HEAD_LR_FACTOR times faster
HEAD_LR_FACTOR = 20
# LoRA's adapters (rank 16, every layer). Measured in 500-step probes on the full pair set:
# 5e-4 collapsed (every sentence the same logit); 1e-4 read short questions at 0.787 top-1
# (docs/reader.md).
LORA_LEARNING_RATE = 1e-4
WARMUP_SHARE = 0.06
WEIGHT_DECAY = 0.01
QUIZ_REPEATS = 2  # the real questions are few beside the cloze ones: each is seen twice
CLOZE_QUESTIONS = 4500  # ~30k pairs: one pass fits the ~60-minute budget on 2 cores
# The span loss: a span head trained beside the sentence head, on the spans of the pairs the
# shipped span head is fitted on (``chosen_pairs``), so that the top layers learn to say which
# span answers, not only whether the sentence does. Its weight against the sentence loss;
# 0 trains for sentences alone (the encoder before). The head itself is not shipped: the span
# head is fitted afresh over the trained encoder (``add_span_head``).
SPAN_LOSS_WEIGHT = 1.0
AUXILIARY = "auxiliary_span_head."  # its parameters' names in checkpoints
CHECKPOINT_EVERY = 50
EVAL_EVERY = 250
THREADS = 2


@dataclass
class TrainingRun:
    steps: int
    pairs: dict[str, int]
    data_sha256: str
    curve: list[dict[str, float]] = field(default_factory=list)  # pairs seen -> held-out
    metrics: dict[str, float] = field(default_factory=dict)
    out: Path | None = None


def _quiz_files(folders: Sequence[Path], flag: str) -> list[Path]:
    return [path for folder in folders for path in data_files(folder, flag)]


# ----------------------------------------------------------------------------- held-out set
@dataclass(frozen=True)
class HeldOut:
    """Questions whose candidates are scored together: top-1 accuracy over the answerable."""

    groups: list[list[Pair]]

    @classmethod
    def from_folder(cls, folder: Path, seed: int, before: str = FIRST_HIDDEN_DATE) -> HeldOut:
        """``before``: as the training's (articles of that date or later are never read)."""
        questions = [q for q in load_questions(folder / "questions.jsonl") if q.answerable]
        sentences = split_sentences(read_articles([folder / "corpus.jsonl"], before))
        if not sentences:
            raise EvalError(f"--held-out {folder}: no article in its corpus dated before {before}")
        index = SentenceIndex(sentences)
        pairs = [p for p in quiz_pairs(questions, index, random.Random(seed)) if p.origin == "quiz"]
        grouped: dict[str, list[Pair]] = {}
        for pair in pairs:
            grouped.setdefault(pair.group, []).append(pair)
        return cls([g for g in grouped.values() if any(p.label for p in g)])

    @property
    def sha256(self) -> str:
        """What was scored: the groups' questions, sentences and labels. The set is built by
        ``quiz_pairs``, so a recipe that changes the quiz pairs changes it too; recorded with
        the weights, this tells two curves measured on different sets apart."""
        rows = [[(p.question, p.passage, p.label) for p in group] for group in self.groups]
        return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()

    def accuracy(self, score: Callable[[str, list[str]], list[float]]) -> float:
        right = 0
        for group in self.groups:
            scores = score(group[0].question, [p.passage for p in group])
            best = max(range(len(group)), key=lambda i: scores[i])
            right += group[best].label
        return right / max(len(self.groups), 1)


def bm25_scorer() -> Callable[[str, list[str]], list[float]]:
    """The word-overlap reference: BM25 of the question over the group's sentences."""

    def score(question: str, passages: list[str]) -> list[float]:
        index = SentenceIndex([_as_sentence(p) for p in passages])
        ranked = index.search([question], k=len(passages))[0]
        order = {n: len(passages) - r for r, n in enumerate(ranked)}
        return [float(order.get(n, 0)) for n in range(len(passages))]

    return score


def _as_sentence(text: str) -> Sentence:
    return Sentence(text, "", "", "", False)


def cosine_scorer() -> Callable[[str, list[str]], list[float]]:
    """The embedding reference: MiniLM's cosine, as the reader's ``cosine`` feature."""
    model = rag.embedding_model(rag.load_settings())
    return lambda question, passages: model.similarity(question, passages)


# ----------------------------------------------------------------------------- training
def _base_name(name: str) -> str:
    """peft's name of a parameter as the base model's (or the adapter's, for LoRA):
    base_model.model.bert...query.lora_A.default.weight -> bert...query.lora_A."""
    name = name.removeprefix("base_model.model.")
    for matrix in rag.LORA_MATRICES:
        name = name.replace(f".{matrix}.default.weight", f".{matrix}")
    return name


class Trainer:
    """One training run's model and optimiser: the top layers trained whole, or (``lora``)
    adapters on every layer through peft."""

    def __init__(
        self,
        steps: int,
        seed: int,
        threads: int = THREADS,
        lora: bool = False,
        span_loss: float = 0.0,
    ):
        import torch

        self.torch = torch
        self.lora = rag.LoraShape(rag.LORA_RANK, rag.LORA_ALPHA) if lora else None
        torch.manual_seed(seed)  # the fresh head (and LoRA's A matrices) start random
        self.model, self.tokenizer = rag.cross_encoder_base(threads)
        if self.lora:
            from peft import LoraConfig, get_peft_model

            config = LoraConfig(r=self.lora.rank, lora_alpha=self.lora.alpha,
                                target_modules=rag.LORA_TARGETS, bias="none")  # fmt: skip
            with warnings.catch_warnings():  # peft asks transformers a deprecated question
                warnings.simplefilter("ignore", FutureWarning)
                self.model = get_peft_model(self.model, config)
            for name, parameter in self.model.named_parameters():
                if _base_name(name).startswith(rag.TRAINED_WHOLE):
                    parameter.requires_grad = True
        else:
            for name, parameter in self.model.named_parameters():
                parameter.requires_grad = rag.cross_encoder_trains(name)
        self.named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        self.span_loss = span_loss
        if span_loss:
            hidden = self.model.config.hidden_size
            self.span_head = torch.nn.Linear(rag.SPAN_HEAD_TERMS * hidden, 1)
            self.named += [(f"{AUXILIARY}{n}", p) for n, p in self.span_head.named_parameters()]
        groups: dict[float, list] = {}
        for name, parameter in self.named:
            if _base_name(name).startswith(("classifier.", AUXILIARY)):
                rate = LEARNING_RATE * HEAD_LR_FACTOR
            elif ".lora_" in name:
                rate = LORA_LEARNING_RATE
            else:
                rate = LEARNING_RATE
            groups.setdefault(rate, []).append(parameter)
        self.optimizer = torch.optim.AdamW(
            [{"params": params, "lr": rate} for rate, params in groups.items()],
            weight_decay=WEIGHT_DECAY,
        )
        warmup = max(1, int(steps * WARMUP_SHARE))
        decay = max(steps - warmup, 1)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer,
            lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / decay)),
        )
        self.seed = seed
        self.step = 0

    def changed(self) -> dict[str, Any]:
        """What training changed, named as ``rag.CrossEncoder`` loads it (the auxiliary span
        head is training's alone)."""
        return {
            _base_name(name): parameter
            for name, parameter in self.named
            if not name.startswith(AUXILIARY)
        }

    def encode(self, pairs: Sequence[Pair], offsets: bool = False):
        return rag.encode_pairs(
            self.tokenizer, [p.question for p in pairs], [p.passage for p in pairs],
            offsets=offsets,
        )  # fmt: skip

    def losses(self, pairs: Sequence[Pair], spans: Sequence[Sequence[SpanTarget]] = ()):
        """The sentence loss over ``pairs`` and, when the trainer has a span loss and
        ``spans`` (one list per pair, empty for none) name any that were read, the span loss
        (else None)."""
        torch = self.torch
        with_spans = bool(self.span_loss and any(spans))
        encoded = self.encode(pairs, offsets=with_spans)
        offsets = encoded.pop("offset_mapping", None)
        output = self.model(**encoded, output_hidden_states=with_spans)
        labels = torch.tensor([float(p.label) for p in pairs])
        sentence = torch.nn.functional.binary_cross_entropy_with_logits(output.logits[:, 0], labels)
        if not with_spans:
            return sentence, None
        rows, answers = [], []
        for row, targets in enumerate(spans):
            read, kept = span_states(output.hidden_states[-1], encoded, offsets, row, targets)
            rows += read
            answers += [float(target.answer) for target in kept]
        if not rows:
            return sentence, None
        span_logits = self.span_head(torch.stack(rows))[:, 0]
        span = torch.nn.functional.binary_cross_entropy_with_logits(
            span_logits, torch.tensor(answers)
        )
        return sentence, span

    def train_step(
        self, pairs: Sequence[Pair], spans: Sequence[Sequence[SpanTarget]] = ()
    ) -> float:
        """One step over ``pairs`` (and their ``spans``, for the span loss)."""
        self.torch.manual_seed(self.seed * 100_003 + self.step)  # this step's dropout, on resume
        self.model.train()
        sentence, span = self.losses(pairs, spans)
        loss = sentence if span is None else sentence + self.span_loss * span
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return loss.item()

    def scores(self, question: str, passages: list[str]) -> list[float]:
        torch = self.torch
        self.model.eval()
        with torch.inference_mode():
            pairs = [Pair(question, p, 0, "", "") for p in passages]
            found: list[float] = []
            for start in range(0, len(pairs), 64):
                found += self.model(**self.encode(pairs[start : start + 64])).logits[:, 0].tolist()
        return found

    # -- checkpoints: safetensors for tensors, JSON for the rest, never pickle
    def save_checkpoint(self, folder: Path, extra: dict[str, Any]) -> None:
        from safetensors.torch import save_file

        tensors = {}
        steps = {}
        for name, parameter in self.named:
            tensors[f"param/{name}"] = parameter.detach().contiguous()
            state = self.optimizer.state.get(parameter)
            if state:
                tensors[f"exp_avg/{name}"] = state["exp_avg"].contiguous()
                tensors[f"exp_avg_sq/{name}"] = state["exp_avg_sq"].contiguous()
                steps[name] = float(state["step"])
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / "checkpoint.safetensors.tmp"
        save_file(tensors, str(temporary))
        temporary.replace(folder / "checkpoint.safetensors")
        state_file = folder / "checkpoint.json"
        state_file.with_suffix(".json.tmp").write_text(
            json.dumps({"step": self.step, "adam_steps": steps, **extra}), encoding="utf-8"
        )
        state_file.with_suffix(".json.tmp").replace(state_file)

    def load_checkpoint(self, folder: Path) -> dict[str, Any] | None:
        from safetensors.torch import load_file

        state_file = folder / "checkpoint.json"
        if not state_file.is_file():
            return None
        saved = json.loads(state_file.read_text(encoding="utf-8"))
        tensors = load_file(str(folder / "checkpoint.safetensors"))
        with self.torch.no_grad():
            for name, parameter in self.named:
                parameter.copy_(tensors[f"param/{name}"])
                if name in saved["adam_steps"]:
                    self.optimizer.state[parameter] = {
                        "step": self.torch.tensor(saved["adam_steps"][name]),
                        "exp_avg": tensors[f"exp_avg/{name}"],
                        "exp_avg_sq": tensors[f"exp_avg_sq/{name}"],
                    }
        self.step = saved["step"]
        with warnings.catch_warnings():  # "scheduler before optimizer": a replay, on purpose
            warnings.simplefilter("ignore", UserWarning)
            for _ in range(self.step):  # the schedule is a function of the step
                self.scheduler.step()
        return saved


def schedule(pairs: Sequence[Pair], seed: int) -> list[Pair]:
    """The order pairs are seen in: quiz pairs repeated, all shuffled with ``seed``."""
    order = [p for p in pairs for _ in range(QUIZ_REPEATS if p.origin != "cloze" else 1)]
    random.Random(seed).shuffle(order)
    return order


def train_cross_encoder(
    quiz: Sequence[Path],
    corpora: Sequence[Path],
    out: Path,
    work: Path,
    held_out: Path | None = None,
    cloze_questions: int = CLOZE_QUESTIONS,
    max_steps: int | None = None,
    seed: int = SEED,
    progress: Progress = print,
    on_step: Callable[[int, int, float], None] | None = None,
    before: str = FIRST_HIDDEN_DATE,
    lora: bool = False,
    span_head_only: bool = False,
    span_loss: float = SPAN_LOSS_WEIGHT,
    command: str | None = None,
) -> TrainingRun:
    """Build the pairs, train (resuming from ``work`` if a checkpoint is there), write ``out``:
    the top layers whole, or LoRA adapters on every layer (``lora``); then fit the span head
    over it (``eval.train_span_head``). ``span_head_only``: only the span head, over the
    weights already at ``out``. ``span_loss``: the weight of the span loss trained beside the
    sentence loss (``SPAN_LOSS_WEIGHT``; 0 for none). ``command``: the command line that ran
    it, recorded with the weights."""
    files = _quiz_files(quiz, "--quiz")
    check_given_files({"--corpus": corpora})
    if held_out is not None:
        _quiz_files([held_out], "--held-out")
    tokens = rag.CROSS_ENCODER_TOKENS
    recipe = f"seed={seed}|cloze={cloze_questions}|tokens={tokens}|before={before}"
    data_sha256 = sha256_of([*files, *corpora], recipe)
    work = work / data_sha256[:16]
    sources = PairSources(list(quiz), list(corpora), cloze_questions, before)
    pairs = _cached_pairs(work, sources, seed, progress)
    if not pairs:
        raise EvalError(f"no training pairs: no article of {', '.join(map(str, files))} is dated")
    order = schedule(pairs, seed)
    steps = math.ceil(len(order) / BATCH)
    if max_steps is not None:
        steps = min(steps, max_steps)
    counts: dict[str, int] = {}
    for pair in pairs:
        key = f"{pair.origin}_{'positive' if pair.label else 'negative'}"
        counts[key] = counts.get(key, 0) + 1
    run = TrainingRun(steps=steps, pairs=dict(sorted(counts.items())), data_sha256=data_sha256)

    if not span_head_only and (done := _finished_run(out, data_sha256, steps, lora, span_loss)):
        # Trained to the end and written with its span head (an interrupted run of the whole
        # pipeline, `newsrag train-reader`, run again): the same data and seed would give the
        # same file again, after minutes of fitting.
        progress(f"{out}: trained from this data to step {steps} already, span head fitted: kept")
        run.curve = list(done.provenance.get("curve", []))
        run.metrics = dict(done.provenance.get("metrics", {}))
        run.metrics |= _span_head_metrics(done.span_head or {})
        run.out = out
        return run
    held = HeldOut.from_folder(held_out, seed, before) if held_out else None
    if span_head_only and not out.is_file():
        raise EvalError(f"--out {out}: no cross-encoder there to fit a span head over")
    # The spans of the pairs the span head is fitted on: found once, for the span loss and
    # for the head.
    chosen = chosen_pairs(pairs, seed)
    progress(f"the spans of {len(chosen)} pairs")
    targets = span_targets(chosen)
    if span_head_only:
        _fit_span_head(out, pairs, held, seed, progress, run, targets)
        return run
    trainer = Trainer(steps, seed, lora=lora, span_loss=span_loss)
    # The pairs are shared, the runs are not: each form of training resumes from its own.
    checkpoints = work / "lora" if lora else work
    spans_of: dict[tuple[str, str], list[SpanTarget]] = {}
    if span_loss:
        checkpoints = checkpoints / f"span-loss-{span_loss:g}"
        for pair, found in zip(chosen, targets, strict=True):
            spans_of[(pair.question, pair.passage)] = found
    saved = trainer.load_checkpoint(checkpoints)
    if saved:
        run.curve = saved.get("curve", [])
        progress(f"resuming at step {trainer.step} of {steps} ({checkpoints})")
    elif held:
        progress(f"held-out {held_out.name}: {len(held.groups)} questions")
        run.curve.append({"pairs": 0, "accuracy": held.accuracy(trainer.scores)})
        run.metrics["bm25"] = held.accuracy(bm25_scorer())
        run.metrics["cosine"] = held.accuracy(cosine_scorer())
    if saved:
        run.metrics.update(saved.get("references", {}))
    started, first_step = time.perf_counter(), trainer.step
    earlier_seconds = float(saved.get("seconds", 0.0)) if saved else 0.0  # before a resume

    def seconds() -> float:  # training so far, over resumes
        return earlier_seconds + time.perf_counter() - started

    recent: list[float] = []
    while trainer.step < steps:
        batch = order[trainer.step * BATCH : (trainer.step + 1) * BATCH]
        spans = [spans_of.get((pair.question, pair.passage), []) for pair in batch]
        recent = [*recent[-49:], trainer.train_step(batch, spans)]
        if on_step:
            elapsed = time.perf_counter() - started
            on_step(trainer.step, steps, elapsed / max(trainer.step - first_step, 1))
        if held and (trainer.step % EVAL_EVERY == 0 or trainer.step == steps):
            accuracy = held.accuracy(trainer.scores)
            run.curve.append({"pairs": trainer.step * BATCH, "accuracy": accuracy})
            progress(
                f"step {trainer.step}/{steps}: loss {sum(recent) / len(recent):.3f}, "
                f"held-out top-1 {accuracy:.3f}"
            )
        if trainer.step % CHECKPOINT_EVERY == 0 or trainer.step == steps:
            trainer.save_checkpoint(
                checkpoints,
                {
                    "curve": run.curve,
                    "references": run.metrics,
                    "loss": recent[-1],
                    "seconds": seconds(),
                },
            )
    run.metrics["loss_last_50"] = sum(recent) / max(len(recent), 1) if recent else math.nan
    if run.curve:
        run.metrics["held_out_top1"] = run.curve[-1]["accuracy"]
    provenance = {
        "data_sha256": data_sha256,
        "seed": seed,
        "steps": steps,
        "batch": BATCH,
        "learning_rate": LEARNING_RATE,
        "lora_learning_rate": LORA_LEARNING_RATE if lora else None,
        "span_loss": span_loss,
        "pairs": run.pairs,
        "sources": [p.name for p in [*quiz, *corpora]],
        "held_out": held_out.name if held_out else None,
        "held_out_sha256": held.sha256 if held else None,
        "curve": run.curve,
        "metrics": {k: round(v, 4) for k, v in run.metrics.items()},
        "torch": trainer.torch.__version__,
        "training_minutes": round(seconds() / 60),
        "command": command,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    rag.save_cross_encoder(trainer.changed(), out, provenance, trainer.lora)
    _fit_span_head(out, pairs, held, seed, progress, run, targets)
    return run


def _finished_run(
    out: Path, data_sha256: str, steps: int, lora: bool, span_loss: float
) -> rag.CrossEncoderInfo | None:
    """What the weights at ``out`` say of themselves if they are this run's, finished: the
    same data and recipe, every step taken, the span head fitted."""
    if not out.is_file():
        return None
    try:
        info = rag.cross_encoder_info(out)
    except rag.CrossEncoderError:
        return None  # unreadable: trained again
    made = info.provenance
    same = (
        made.get("data_sha256") == data_sha256
        and made.get("steps") == steps
        and made.get("span_loss") == span_loss
        and (info.lora is not None) == lora
    )
    return info if same and info.span_head is not None else None


def _fit_span_head(
    out: Path,
    pairs: Sequence[Pair],
    held: HeldOut | None,
    seed: int,
    progress: Progress,
    run: TrainingRun,
    targets: Sequence[Sequence[SpanTarget]],
) -> None:
    """Fit the span head into ``out`` (``targets``: the spans of ``chosen_pairs``); its
    top-1 figures join the run's metrics."""
    held_pairs = [pair for group in held.groups for pair in group] if held else []
    try:
        fitted = add_span_head(out, pairs, held_pairs, seed, progress, targets)
    except (ValueError, rag.CrossEncoderError) as error:
        raise EvalError(f"--out {out}: {error}") from None
    run.metrics |= _span_head_metrics(fitted)
    run.out = out


def _span_head_metrics(fitted: dict[str, Any]) -> dict[str, float]:
    """The span head's top-1 figures, as a run's metrics."""
    return {f"span_head_{k}": v for k, v in fitted.items() if "top1" in k or "chance" in k}


def _cached_pairs(work: Path, sources: PairSources, seed: int, progress: Progress) -> list[Pair]:
    """The pairs, built once per data hash (building takes a few minutes: NER and BM25)."""
    cached = work / "pairs.jsonl"
    if cached.is_file():
        with open(cached, encoding="utf-8") as handle:
            pairs = [Pair(**json.loads(line)) for line in handle]
        # Pairs cached before they carried their answers (the span head needs them): rebuilt.
        if not any(p.label and not p.answer for p in pairs):
            return pairs
    pairs = build_pairs(sources, seed, progress)
    work.mkdir(parents=True, exist_ok=True)
    temporary = cached.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(asdict(pair)) + "\n")
    temporary.replace(cached)
    return pairs
