"""Answerers behind one interface. An answerer is added by adding a module and a line here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rag.answer.base import AnswerContext, Answerer, Draft
from rag.errors import NewsragError
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.answer.extractive import ExtractiveAnswerer
    from rag.answer.reader import SentenceScorer


class AnswererError(NewsragError, ValueError):
    """An answerer name that doesn't exist."""


def build_answerer(name: str, settings: Settings) -> Answerer:
    """The one place answerers are made. Model errors (``NewsragError``) name what is missing."""
    if name == "extractive":
        return _extractive(settings)
    if name == "llm":
        from rag.answer.llm import LLMAnswerer
        from rag.models import build_llm

        return LLMAnswerer(build_llm(settings), settings.llm_max_tokens, _extractive(settings))
    raise AnswererError(f"unknown answerer {name!r} (extractive, llm)")


def _extractive(settings: Settings) -> ExtractiveAnswerer:
    from rag.answer.extractive import ExtractiveAnswerer
    from rag.models import uses_bfloat16

    return ExtractiveAnswerer(
        build_scorer(settings),
        max_passages=settings.top_k,
        bfloat16=uses_bfloat16(settings.answer_precision),
    )


def build_scorer(settings: Settings) -> SentenceScorer:
    """The extractive answerer's sentence scorer that ``settings`` ask for."""
    from rag.answer.cross_encoder import shared_cross_encoder
    from rag.answer.reader import (
        LOGISTIC_MODEL,
        SHIPPED_MODEL,
        ReaderModel,
        TrainedReader,
        WeightedScorer,
    )

    if settings.extractive_scorer == "weights":
        return WeightedScorer(settings.refusal_threshold)
    shipped = LOGISTIC_MODEL if settings.extractive_scorer == "logistic" else SHIPPED_MODEL
    model = ReaderModel.load(settings.reader_model or shipped)
    weights = model.cross_encoder_path
    encoder = (
        shared_cross_encoder(weights, settings.embed_threads, settings.answer_precision)
        if weights
        else None
    )
    return TrainedReader(model, settings.refusal_threshold, encoder)


def available_answerers(settings: Settings) -> list[str]:
    """The answerers this configuration can run, without loading a model: ``llm`` needs a
    server URL or a GGUF file on disk."""
    from rag.models import ModelNotFoundError, bundled_gguf_path

    names = ["extractive"]
    if settings.llm_backend == "openai":
        if settings.llm_base_url:
            names.append("llm")
        return names
    try:
        gguf = settings.llm_gguf or bundled_gguf_path()
    except ModelNotFoundError:
        return names
    if gguf.is_file():
        names.append("llm")
    return names


def answerer_label(name: str, settings: Settings) -> str:
    """How a person should see answerer ``name``: the LLM by its model's name."""
    if name != "llm":
        return "Extractive (quotes the articles)"
    if settings.llm_backend == "openai":
        return f"LLM: {settings.llm_model} at {settings.llm_base_url}"
    from rag.models import ModelNotFoundError, bundled_gguf_path

    try:
        return f"LLM: {Path(settings.llm_gguf or bundled_gguf_path()).stem}"
    except ModelNotFoundError:
        return "LLM"


__all__ = [
    "AnswerContext",
    "Answerer",
    "AnswererError",
    "Draft",
    "answerer_label",
    "available_answerers",
    "build_answerer",
    "build_scorer",
]
