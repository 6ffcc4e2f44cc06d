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


__all__ = ["AnswerContext", "Answerer", "Draft", "build_answerer"]
