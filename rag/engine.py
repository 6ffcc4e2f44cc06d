"""The public query API: ``open_engine()`` -> ``NewsQueryEngine``.

``engine.query(...)`` is LlamaIndex's (a ``Response`` whose ``source_nodes`` are the cited
chunks); ``ask``/``stream``/``chat`` return or end with our ``Answer``.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine

from rag import keyword
from rag.answer.base import AnswerContext, Answerer, Draft
from rag.answer.extractive import ExtractiveAnswerer
from rag.answer.question import answer_type, best_span, candidate_spans
from rag.cite import verify
from rag.dates import (
    DateWindow,
    publication_window,
    recency_prior,
    resolve_time_expression,
    strip_expression,
)
from rag.guard import neutralize
from rag.models import LLMUnavailableError, LocalEmbedding, ModelNotFoundError, embedding_model
from rag.retrieve import HybridRetriever, SearchFilters, to_node
from rag.settings import Settings, load_settings
from rag.store import Library, LibraryError
from rag.types import Answer, Passage

REFUSAL = "The articles in the library don't answer this question."
SIMILARITY_BATCH = 8
WIDENING = (2, 4)  # an empty date window is retried this many times wider, then dropped


class QueryError(ValueError):
    """Bad input to ask/stream/chat; the message says which input and what is wrong."""


def parse_day(value: date | str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise QueryError(f"{name}: {value!r} is not a date (use YYYY-MM-DD)") from None


class NewsQueryEngine(CustomQueryEngine):
    """Hybrid, date-aware retrieval + a pluggable answerer + citation verification."""

    settings: Any
    library: Any
    retriever: Any
    embed_model: Any
    answerers: dict[str, Any]

    # ------------------------------------------------------------------ LlamaIndex
    def custom_query(self, query_str: str) -> Response:
        answer = self.ask(query_str)
        cited = {c.chunk_id for c in answer.citations}
        nodes = [to_node(p) for p in answer._passages if p.chunk_id in cited]
        return Response(response=answer.text, source_nodes=nodes, metadata={"answer": answer})

    # ------------------------------------------------------------------ our API
    def ask(
        self,
        question: str,
        *,
        as_of: date | str | None = None,
        sources: Sequence[str] | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        answerer: str | None = None,
    ) -> Answer:
        return _final(
            self.stream(
                question, as_of=as_of, sources=sources, since=since, until=until, answerer=answerer
            )
        )

    def stream(
        self,
        question: str,
        *,
        as_of: date | str | None = None,
        sources: Sequence[str] | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        answerer: str | None = None,
    ) -> Iterator[str | Answer]:
        """Text pieces while the answer is produced, then the verified ``Answer``.

        For the LLM answerer the streamed text is the raw generation; the final Answer holds
        the verified text (unsupported statements removed), which replaces it.
        """
        started = time.perf_counter()
        timings: dict[str, float] = {}
        question, day, chosen, filters, window = self._prepare(
            question, as_of, sources, since, until, answerer
        )
        retrieval_query = strip_expression(question, window)
        search, widened = self._search(retrieval_query, filters, window, day)
        timings["retrieve"] = _ms(started)
        timings["dense"] = round(search.dense_ms, 1)
        timings["keyword"] = round(search.keyword_ms, 1)

        context = AnswerContext(
            question=question,
            retrieval_query=retrieval_query,
            passages=[neutralize(p) for p in search.passages],
            kind=answer_type(question),
            weight=keyword.keyword_index(self.library).weights(),
            similarity=self._similarity,
            recency=filters.recency,
        )
        answer_started = time.perf_counter()
        draft: Draft | None = None
        if search.passages:
            for piece in chosen.stream(context):
                if isinstance(piece, Draft):
                    draft = piece
                else:
                    yield piece
        timings["answer"] = _ms(answer_started)

        verify_started = time.perf_counter()
        answer = self._finish(question, day, chosen, context, draft, window, widened)
        timings["verify"] = _ms(verify_started)
        timings["total"] = _ms(started)
        answer.timings = timings
        answer.debug["retrieval"] = search.debug
        answer._passages = search.passages
        yield answer

    def chat(self, history: Sequence[Any], message: str, **options: Any) -> Answer:
        """Answer a follow-up: rewritten into a standalone question from the history first.

        ``history``: (user, assistant) pairs, or Gradio-style {"role", "content"} dicts.
        """
        return _final(self.stream_chat(history, message, **options))

    def stream_chat(
        self, history: Sequence[Any], message: str, **options: Any
    ) -> Iterator[str | Answer]:
        """``chat`` as a stream: text pieces, then the ``Answer`` (as ``stream`` does)."""
        if not isinstance(message, str) or not message.strip():
            raise QueryError("question is empty")
        pairs = _as_pairs(history)
        chosen = self._answerer(options.get("answerer"))
        standalone = chosen.rewrite(pairs, message) or rewrite_follow_up(pairs, message)
        for piece in self.stream(standalone, **options):
            if isinstance(piece, Answer):
                piece.debug["standalone_question"] = standalone
                piece.question = " ".join(message.split())
            yield piece

    # ------------------------------------------------------------------ steps
    def _answerer(self, name: str | None) -> Answerer:
        name = name or self.settings.answerer
        if name not in self.answerers:
            from rag.answer import build_answerer

            try:
                self.answerers[name] = build_answerer(name, self.settings)
            except (ValueError, LibraryError, LLMUnavailableError, ModelNotFoundError) as error:
                raise QueryError(str(error)) from None
        return self.answerers[name]

    def _prepare(self, question, as_of, sources, since, until, answerer):
        if not isinstance(question, str) or not question.strip():
            raise QueryError("question is empty")
        question = " ".join(question.split())
        if len(question) > self.settings.max_question_chars:
            raise QueryError(
                f"question is {len(question)} characters; the limit is "
                f"{self.settings.max_question_chars} (max_question_chars)"
            )
        day = parse_day(as_of, "as_of") or date.today()
        first, last = parse_day(since, "since"), parse_day(until, "until")
        if first and last and first > last:
            raise QueryError(f"since ({first}) is after until ({last})")
        if self.library.article_count() == 0:
            raise QueryError("the library is empty: add articles with `newsrag ingest PATH`")
        known = {s.casefold(): s for s in self.library.sources()}
        chosen_sources = None
        if sources:
            chosen_sources = []
            for name in sources:
                if name.casefold() not in known:
                    listing = ", ".join(sorted(known.values())) or "none: no article has a source"
                    raise QueryError(f"unknown source {name!r} (known: {listing})")
                chosen_sources.append(known[name.casefold()])
        chosen = self._answerer(answerer)
        window = None if (first or last) else resolve_time_expression(question, day)
        filters = SearchFilters(sources=chosen_sources, first_day=first, last_day=last)
        if self.settings.hide_future:
            filters.last_day = min(last or day, day)
        if window is not None and window.use == "boost":
            filters.boost = window
        filters.recency = recency_prior(
            question,
            window,
            self.library.newest_published(day),
            self.settings.recency_half_life_days,
            self.settings.recency_floor,
        )
        return question, day, chosen, filters, window

    def _search(self, query: str, filters: SearchFilters, window: DateWindow | None, day: date):
        if window is None or window.use == "boost":
            return self.retriever.search(query, filters), None
        attempts = [window] + [window.widened(factor, day) for factor in WIDENING] + [None]
        for attempt in attempts:
            trial = dataclasses.replace(filters)  # every filter kept; only the days change
            if attempt is not None:
                first, last = publication_window(attempt, day)
                trial.first_day, trial.last_day = first, min(last, filters.last_day or last)
            result = self.retriever.search(query, trial)
            if result.passages:
                widened = None if attempt is window else (attempt.to_dict() if attempt else "none")
                return result, widened
        return result, "none"

    def _similarity(self, text: str, others: list[str]) -> list[float]:
        if not others:
            return []
        # Sentences vary in length: small batches (sorted by length) pad less than one big one.
        vectors = self.embed_model.encode([text, *others], batch_size=SIMILARITY_BATCH)
        query = vectors[0]
        return [sum(a * b for a, b in zip(query, v, strict=True)) for v in vectors[1:]]

    def _finish(self, question, day, chosen, context, draft, window, widened) -> Answer:
        debug: dict[str, Any] = {
            "answer_type": context.kind,
            "date_window": window.to_dict() if window else None,
            "widened_to": widened,
            "recency": context.recency.to_dict() if context.recency else None,
        }
        if draft is not None:
            debug["answerer"] = draft.debug
        if draft is None or draft.refused or not draft.text.strip():
            return self._refusal(question, day, chosen, context, debug)
        verified = verify(
            draft.text,
            context.passages,
            context.weight,
            self._similarity if chosen.name != "extractive" else None,
        )
        debug["verification"] = {"dropped": verified.dropped, "moved": verified.moved}
        if verified.refused:
            return self._refusal(question, day, chosen, context, debug)
        short = draft.short_answer
        if short is None and context.kind != "entity":
            spans = candidate_spans(verified.citations[0].quote, context.kind, question)
            short = best_span(spans, question, verified.citations[0].quote) if spans else None
        return Answer(
            question=question,
            text=verified.text,
            short_answer=short,
            citations=verified.citations,
            answerer=chosen.name,
            as_of=day,
            debug=debug,
        )

    def _refusal(self, question, day, chosen, context, debug) -> Answer:
        best_per_article: dict[str, Passage] = {}
        for passage in context.passages:  # in rank order: the first passage of each article
            best_per_article.setdefault(passage.article_id, passage)
        return Answer(
            question=question,
            text=REFUSAL,
            refused=True,
            closest=list(best_per_article.values())[:3],
            answerer=chosen.name,
            as_of=day,
            debug=debug,
        )


def _final(pieces: Iterator[str | Answer]) -> Answer:
    """The ``Answer`` a stream ends with (its text pieces are dropped)."""
    final = None
    for piece in pieces:
        if isinstance(piece, Answer):
            final = piece
    assert final is not None
    return final


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _as_pairs(history: Sequence[Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    pending_user: str | None = None
    for item in history:
        if isinstance(item, dict):
            role, content = item.get("role"), str(item.get("content") or "")
            if role == "user":
                pending_user = content
            elif role == "assistant" and pending_user is not None:
                pairs.append((pending_user, content))
                pending_user = None
        else:
            user, assistant = item
            pairs.append((str(user), str(assistant or "")))
    return pairs


_LEADING = re.compile(r"^\s*(and|but|so|also|then)\b[\s,]*", re.I)
_PRONOUN = re.compile(r"\b(him|her|he|she|them|they)\b", re.I)
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|so|also|what about|how about)\b|\b(he|she|him|her|his|hers|they|them|their|"
    r"it|its|this|that|these|those|there|then)\b",
    re.I,
)


def rewrite_follow_up(history: list[tuple[str, str]], message: str) -> str:
    """Deterministic rewrite of a follow-up: a personal pronoun becomes the previous answer's
    subject ("who answered him?" -> "who answered Ali Khamenei?"); otherwise that subject, or the
    previous question, is added as context so retrieval sees what the user means."""
    message = message.strip()
    if not history or not _FOLLOW_UP.search(message):
        return message
    previous_question, previous_answer = history[-1]
    kind = answer_type(previous_question)
    plain_answer = re.sub(r"\[\d+\]", "", previous_answer)
    referent = best_span(
        candidate_spans(plain_answer, "person" if kind == "entity" else kind, previous_question),
        previous_question,
        plain_answer,
    )
    if referent and kind in ("person", "entity"):
        referent = " ".join(referent.split()[-2:])  # "Supreme Leader ... Ali Khamenei" -> name
    core = _LEADING.sub("", message)
    core = core[:1].upper() + core[1:]
    if referent and _PRONOUN.search(core):
        return _PRONOUN.sub(referent, core, count=1)
    return f"{core.rstrip('?')} ({referent or previous_question.rstrip('?')})?"


def open_engine(
    data_dir: str | None = None, *, settings: Settings | None = None, **overrides: Any
) -> NewsQueryEngine:
    """Open the library at ``data_dir`` (default from settings) for questions.

    ``overrides`` are settings (``top_k=8``, ``answerer="llm"``, ``llm_base_url=...``); or pass
    a whole ``settings`` object. Raises ``LibraryError`` with a clear message if the library is
    missing.
    """
    if settings is None:
        settings = load_settings(data_dir=data_dir, **overrides)
    library = Library(settings, create=False)
    model: LocalEmbedding = embedding_model(settings)
    library.check_embedding(settings.embed_model)
    retriever = HybridRetriever(library, model, settings, mode=settings.retrieval_mode)
    extractive = ExtractiveAnswerer(settings.refusal_threshold, max_passages=settings.top_k)
    keyword.keyword_index(library)  # build or load BM25 now, not on the first question
    return NewsQueryEngine(
        settings=settings,
        library=library,
        retriever=retriever,
        embed_model=model,
        answerers={"extractive": extractive},
    )
