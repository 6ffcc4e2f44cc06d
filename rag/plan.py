"""Step 1 of a question: read it once and decide everything the later steps need.

Validation (empty, too long, bad dates, unknown source), the answer type it asks for, its time
expression and the window of publication dates that makes, the filters search applies, and the
recency prior. Nothing after this step looks at the raw inputs again.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from rag.answer.entities import asked_noun, expected_labels
from rag.answer.question import AnswerType, answer_type
from rag.dates import (
    DateError,
    DateWindow,
    recency_prior,
    resolve_time_expression,
    strip_expression,
)
from rag.errors import NewsragError
from rag.filters import SearchFilters
from rag.settings import Settings
from rag.store import Library, chunk_ids
from rag.types import Article, AskOptions


class QueryError(NewsragError, ValueError):
    """Bad input to ask/stream/chat; the message says which input and what is wrong."""


@dataclass(frozen=True)
class QuestionInputs:
    """A question and its dates, checked without the library or any model (``read_question``)."""

    question: str  # cleaned, whitespace normalised
    as_of: date
    first_day: date | None  # since
    last_day: date | None  # until
    window: DateWindow | None  # the time expression's (None with an explicit since/until)


@dataclass(frozen=True)
class QueryPlan:
    question: str  # standalone, whitespace normalised
    as_of: date  # "today" for time expressions; articles published later are hidden
    retrieval_query: str  # the question without its time expression
    kind: AnswerType  # what it asks for: a person, number, date, place, or any entity
    entity_labels: frozenset[str] | None  # the NER labels an answer carries (None: no rule)
    answer_noun: str | None  # the noun "which ..." asks for ("sport"), None when none
    window: DateWindow | None  # the time expression's publication window, if it has one
    filters: SearchFilters  # what search may return, and how dates weigh


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


def clean_text(text: str) -> str:
    """``text`` without what no question means: bytes that were not UTF-8 (a shell passes them
    on as lone surrogates, which the tokenizer rejects) and control or format characters
    (terminal escapes, NUL, zero-width and direction marks). Controls become spaces, so
    "a\tb" stays two words; the rest are dropped."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            kept.append(" ")
        elif category not in ("Cs", "Cf"):
            kept.append(char)
    return "".join(kept)


def normalise_question(question: object, settings: Settings) -> str:
    if isinstance(question, bytes | bytearray):
        raise QueryError("question is bytes: pass text (decode it first)")
    if question is not None and not isinstance(question, str):
        raise QueryError(f"question must be text, not {type(question).__name__} ({question!r})")
    if not question or not question.strip():
        raise QueryError("question is empty")
    question = " ".join(clean_text(question).split())
    if not question:
        raise QueryError("question has no text once control characters and bytes that are "
                         "not UTF-8 are removed")  # fmt: skip
    if len(question) > settings.max_question_chars:
        raise QueryError(
            f"question is {len(question)} characters; the limit is "
            f"{settings.max_question_chars} (max_question_chars)"
        )
    return question


def read_question(
    question: object,
    settings: Settings,
    *,
    as_of: date | str | None = None,
    since: date | str | None = None,
    until: date | str | None = None,
    all_dates: bool = False,
) -> QuestionInputs:
    """Everything about a question that can be checked before the library or a model is
    opened; ``QueryError`` names the first bad input. (The command line calls this first, so a
    bad question is refused in a fraction of a second, not after the models load.)"""
    question = normalise_question(question, settings)
    day = parse_day(as_of, "as_of") or date.today()
    first, last = parse_day(since, "since"), parse_day(until, "until")
    if first and last and first > last:
        raise QueryError(f"since ({first}) is after until ({last})")
    if first and first > day and settings.hide_future:
        raise QueryError(
            f"since ({first}) is after as_of ({day}): articles published after as_of are "
            "hidden, so nothing could be found"
        )
    if all_dates:  # "search all dates": every publication date up to as_of
        return QuestionInputs(question, day, None, None, None)
    # An explicit date range replaces what a time expression would say.
    try:
        window = None if (first or last) else resolve_time_expression(question, day)
    except DateError as error:
        raise QueryError(str(error)) from None
    return QuestionInputs(question, day, first, last, window)


def named_article(library: Library, key: str, option: str) -> Article:
    """The article ``key`` names (id, unique id prefix, URL or record id) for the option
    ``option``; a ``QueryError`` naming both when the library holds none."""
    found = library.resolve(key) if isinstance(key, str) and key.strip() else None
    if found is None:
        raise QueryError(f"{option} {key!r}: no such article in the library (`newsrag list`)")
    return found


def _excluded_chunks(keys: Sequence[str], library: Library) -> frozenset[str]:
    """The chunks of the articles ``keys`` name."""
    if isinstance(keys, str):  # one id given bare would exclude its letters
        keys = [keys]
    excluded: set[str] = set()
    for key in keys:
        article = named_article(library, key, "exclude")
        excluded.update(chunk_ids(article.id, article.version, article.chunk_count))
    return frozenset(excluded)


def plan_query(
    question: str, library: Library, settings: Settings, options: AskOptions
) -> QueryPlan:
    """The plan for one question; ``QueryError`` names the first bad input. ``all_dates``:
    ignore the time expression and since/until (a refusal's "search all dates")."""
    inputs = read_question(
        question, settings, as_of=options.as_of, since=options.since, until=options.until,
        all_dates=options.all_dates,
    )  # fmt: skip
    sources = options.sources
    question, day, first, last = inputs.question, inputs.as_of, inputs.first_day, inputs.last_day
    window = inputs.window
    if library.article_count() == 0:
        raise QueryError("the library is empty: add articles with `newsrag ingest PATH`")
    chosen_sources = _known_sources(sources, library) if sources else None

    filters = SearchFilters(
        sources=chosen_sources,
        first_day=first,
        last_day=last,
        excluded_chunks=_excluded_chunks(options.exclude or (), library),
    )
    if settings.hide_future:
        filters.last_day = min(last or day, day)
    if window is not None and window.use == "boost":
        filters.boost = window
    filters.recency = recency_prior(
        question,
        window,
        library.newest_published(day),
        settings.recency_half_life_days,
        settings.recency_floor,
    )
    return QueryPlan(
        question=question,
        as_of=day,
        retrieval_query=strip_expression(question, window),
        kind=answer_type(question),
        entity_labels=expected_labels(question),
        answer_noun=asked_noun(question),
        window=window,
        filters=filters,
    )


def _known_sources(names: Sequence[str] | str, library: Library) -> list[str]:
    """The library's spelling of each source (matched without case); unknown ones are errors.
    One name may be given as a string ("USA Today"), not only as a list of one."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list | tuple | set | frozenset):
        raise QueryError(f"sources must be a list of source names, not {type(names).__name__}")
    known = {s.casefold(): s for s in library.sources()}
    chosen = []
    for name in names:
        if not isinstance(name, str):
            raise QueryError(f"sources: {name!r} is not a source name (text)")
        if name.casefold() not in known:
            listing = ", ".join(sorted(known.values())) or "none: no article has a source"
            raise QueryError(f"unknown source {name!r} (known: {listing})")
        chosen.append(known[name.casefold()])
    return chosen
