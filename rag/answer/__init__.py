"""Answerers behind one interface. An answerer is added by adding a module and a line here."""

from __future__ import annotations

from rag.answer.base import AnswerContext, Answerer, Draft
from rag.settings import Settings


def build_answerer(name: str, settings: Settings) -> Answerer:
    if name == "extractive":
        from rag.answer.extractive import ExtractiveAnswerer

        return ExtractiveAnswerer(settings.refusal_threshold, max_passages=settings.top_k)
    if name == "llm":
        from rag.answer.llm import LLMAnswerer
        from rag.models import build_llm

        return LLMAnswerer(build_llm(settings), max_tokens=settings.llm_max_tokens)
    raise ValueError(f"unknown answerer {name!r} (extractive, llm)")


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


__all__ = ["AnswerContext", "Answerer", "Draft", "available_answerers", "build_answerer"]
