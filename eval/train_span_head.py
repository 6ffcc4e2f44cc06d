"""Fit the cross-encoder's span head (``rag.CrossEncoder``'s ``SPAN_HEAD``) over its encoder.

The head says how likely each span of a sentence is the answer, from what the trained encoder
made of the question and the sentence together: the top layer's states of the word pieces the
span starts and ends on, the mean of those inside it, and the pair's ``[CLS]`` state. It is a
logistic model over those four vectors (standardised, L2 ``SPAN_HEAD_L2``, L-BFGS), folded into
one linear map, so reading it at answer time costs one small matrix product. The encoder is
not touched: ``newsrag train-cross-encoder`` fits the head after training it, and
``--span-head-only`` fits it over the weights already at ``--out``.

Examples come from the cross-encoder's own training pairs (``eval.reader_pairs``): the
sentences that hold the answer (a quiz question's gold answer, a cloze question's entity) and
``NEGATIVE_SHARE`` as many that don't; a pair's spans are its sentence's named entities and
noun phrases (spaCy, as the reader's short answers are found), and a span is the answer when
the eval's short-answer test says so. The held-out set (the 2023 questions by default) is
measured the same way: the share of its answer-holding sentences whose most likely span is
the answer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rag
from eval.metrics import short_answer_correct
from eval.progress import Progress
from eval.reader_pairs import Pair

# Negative pairs (sentences without the answer) per positive one: their spans are all
# negatives, so the head also learns that a span of an off-topic sentence is not the answer.
NEGATIVE_SHARE = 0.5
# L2 strength on the standardised states. Measured (the shipped encoder, its training pairs
# split 80/20 by question, top-1 span of the answer-holding sentences; chance 0.216):
# 1e-3: 0.633 (the quiz questions alone 0.468); 1e-2: 0.616 (0.429). Without the [CLS]
# state 0.598; the inside mean alone 0.572.
SPAN_HEAD_L2 = 1e-3
FIT_ITERATIONS = 500  # L-BFGS converges well within this on ~70k spans
# Pairs read at once: the states of a batch pad to its longest pair, so batches stay small
# (16: the 9,622 training pairs in ~2 minutes in float32 here).
PAIRS_PER_BATCH = 16


@dataclass(frozen=True)
class SpanSet:
    """The spans of some pairs as the encoder read them: one row of ``states`` per span."""

    states: Any  # torch.Tensor, spans x (SPAN_HEAD_TERMS * hidden)
    labels: list[bool]
    pair_of: list[int]  # the pair each span is in

    def top1(self, logits: Sequence[float]) -> float:
        """Of the pairs with an answer span, the share whose most likely span is one."""
        by_pair: dict[int, list[int]] = {}
        for row, pair in enumerate(self.pair_of):
            by_pair.setdefault(pair, []).append(row)
        answered = [rows for rows in by_pair.values() if any(self.labels[r] for r in rows)]
        right = sum(self.labels[max(rows, key=lambda r: logits[r])] for rows in answered)
        return right / len(answered) if answered else 0.0

    @property
    def chance(self) -> float:
        """The top-1 of a guess among each answered pair's spans."""
        by_pair: dict[int, list[bool]] = {}
        for pair, label in zip(self.pair_of, self.labels, strict=True):
            by_pair.setdefault(pair, []).append(label)
        answered = [labels for labels in by_pair.values() if any(labels)]
        return sum(sum(ls) / len(ls) for ls in answered) / len(answered) if answered else 0.0


def chosen_pairs(pairs: Sequence[Pair], seed: int) -> list[Pair]:
    """The positives with a known answer and ``NEGATIVE_SHARE`` as many negatives (never the
    held-out kind: a question asked without its answer's articles)."""
    positives = [p for p in pairs if p.label and p.answer and p.origin != "held-out"]
    negatives = [p for p in pairs if not p.label and p.origin != "held-out"]
    random.Random(seed).shuffle(negatives)
    return positives + negatives[: int(len(positives) * NEGATIVE_SHARE)]


@dataclass(frozen=True)
class SpanTarget:
    """A span of a pair's passage (its characters) and whether it is the pair's answer."""

    start: int
    end: int
    answer: bool


def span_targets(pairs: Sequence[Pair]) -> list[list[SpanTarget]]:
    """Each pair's spans: its sentence's named entities and noun phrases (as the reader finds
    short answers), each marked by the eval's short-answer test against the pair's answer."""
    found = rag.mentions([rag.passage_sentence(p.passage) for p in pairs], phrases=True)
    targets = []
    for pair, mentioned in zip(pairs, found, strict=True):
        spans = {e.text: (e.start, e.end) for e in [*mentioned.entities, *mentioned.phrases]}
        targets.append([
            SpanTarget(start, end, bool(pair.label and short_answer_correct(text, pair.answer)))
            for text, (start, end) in spans.items()
        ])  # fmt: skip
    return targets


def span_states(states, encoded, offsets, row: int, targets: Sequence[SpanTarget]):
    """The span head's input for each target span of row ``row`` that was read (truncation may
    cut some off): one (SPAN_HEAD_TERMS * hidden) vector each, and the targets kept."""
    import torch

    positions, pieces = rag.passage_pieces(encoded, offsets, row)
    rows, kept = [], []
    for target in targets:
        inside = rag.span_pieces(pieces, target.start, target.end)
        if inside is None:
            continue
        first, last = positions[inside[0]], positions[inside[-1]]
        inside_mean = states[row, first : last + 1].mean(0)
        rows.append(torch.cat([states[row, first], states[row, last], inside_mean, states[row, 0]]))
        kept.append(target)
    return rows, kept


def read_spans(
    pairs: Sequence[Pair],
    encoder: rag.CrossEncoder,
    progress: Progress = print,
    targets: Sequence[Sequence[SpanTarget]] | None = None,
) -> SpanSet:
    """Every span of each pair's sentence, with the states the span head weighs
    (``targets``: the pairs' ``span_targets`` when already found)."""
    import torch

    targets = span_targets(pairs) if targets is None else targets
    rows: list[Any] = []
    labels: list[bool] = []
    pair_of: list[int] = []
    for start in range(0, len(pairs), PAIRS_PER_BATCH):
        batch = range(start, min(start + PAIRS_PER_BATCH, len(pairs)))
        questions = [pairs[i].question for i in batch]
        passages = [pairs[i].passage for i in batch]
        encoded = rag.encode_pairs(
            encoder.tokenizer, questions, passages, encoder.info.max_tokens, offsets=True
        )
        offsets = encoded.pop("offset_mapping")
        with rag.inference_precision(encoder.bfloat16):
            states = encoder.model(**encoded, output_hidden_states=True).hidden_states[-1].float()
        for row, i in enumerate(batch):
            read, kept = span_states(states, encoded, offsets, row, targets[i])
            rows += read
            labels += [target.answer for target in kept]
            pair_of += [i] * len(kept)
        if start % (PAIRS_PER_BATCH * 100) == 0:
            progress(f"  span head: read {start}/{len(pairs)} pairs")
    hidden = encoder.model.config.hidden_size
    stacked = torch.stack(rows) if rows else torch.zeros(0, rag.SPAN_HEAD_TERMS * hidden)
    return SpanSet(stacked, labels, pair_of)


def fit_span_head(spans: SpanSet, l2: float = SPAN_HEAD_L2):
    """The head's weight (SPAN_HEAD_TERMS x hidden) and bias: a logistic model on the
    standardised states, folded back onto the raw ones."""
    import torch

    states = spans.states
    labels = torch.tensor([float(y) for y in spans.labels])
    mean, scale = states.mean(0), states.std(0) + 1e-6
    standard = (states - mean) / scale
    weights = torch.zeros(states.shape[1], requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [weights, bias], max_iter=FIT_ITERATIONS, line_search_fn="strong_wolfe"
    )

    def loss():
        optimizer.zero_grad()
        logits = standard @ weights + bias
        value = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
        value = value + l2 * (weights @ weights)
        value.backward()
        return value

    optimizer.step(loss)
    with torch.no_grad():
        raw = weights / scale  # w . (x - m) / s + b = (w / s) . x + (b - (w / s) . m)
        folded_bias = bias - raw @ mean
    hidden = states.shape[1] // rag.SPAN_HEAD_TERMS
    return raw.reshape(rag.SPAN_HEAD_TERMS, hidden).contiguous(), folded_bias.reshape(1)


def head_logits(spans: SpanSet, weight, bias) -> list[float]:
    return (spans.states @ weight.reshape(-1) + bias).tolist()


def add_span_head(
    weights: Path,
    pairs: Sequence[Pair],
    held_out: Sequence[Pair],
    seed: int,
    progress: Progress = print,
    targets: Sequence[Sequence[SpanTarget]] | None = None,
) -> dict[str, Any]:
    """Fit the span head over the encoder at ``weights`` and write it into that file (the
    encoder's tensors as they were); returns how it was fitted and what it measured.
    ``targets``: the ``span_targets`` of ``chosen_pairs(pairs, seed)`` when already found
    (spaCy over ~10k sentences: a minute or two)."""
    from safetensors.torch import load_file

    encoder = rag.CrossEncoder(weights, precision="float32")  # the same states on any CPU
    chosen = chosen_pairs(pairs, seed)
    progress(f"span head: {len(chosen)} pairs")
    spans = read_spans(chosen, encoder, progress, targets)
    if not any(spans.labels):
        raise ValueError("no span of the training pairs holds its answer")
    weight, bias = fit_span_head(spans)
    description: dict[str, Any] = {
        "fitted_by": "newsrag train-cross-encoder (eval/train_span_head.py)",
        "seed": seed,  # which negatives; the fit itself is deterministic
        "l2": SPAN_HEAD_L2,
        "negative_share": NEGATIVE_SHARE,
        "pairs": len(chosen),
        "spans": len(spans.labels),
        "answer_spans": sum(spans.labels),
        "train_top1": round(spans.top1(head_logits(spans, weight, bias)), 4),
    }
    answered = [p for p in held_out if p.label and p.answer]
    if answered:
        measured = read_spans(answered, encoder, progress)
        description["held_out_top1"] = round(measured.top1(head_logits(measured, weight, bias)), 4)
        description["held_out_chance"] = round(measured.chance, 4)
        description["held_out_pairs"] = len(answered)
    changed = {n: t for n, t in load_file(str(weights)).items() if n not in rag.SPAN_HEAD}
    weight_name, bias_name = rag.SPAN_HEAD
    info = encoder.info
    rag.save_cross_encoder(
        {**changed, weight_name: weight, bias_name: bias}, weights, info.provenance,
        info.lora, span_head=description,
    )  # fmt: skip
    return description
