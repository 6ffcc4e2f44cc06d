"""What a search may return: sources and a publication-day range; and how dates weigh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from rag.dates import DateWindow, RecencyPrior
from rag.types import day_number

UNDATED_DAY = 0  # the day number stored for an article without a date
LAST_DAY = 10**7  # a day number after any real date (date.max is 3,652,059)


@dataclass
class SearchFilters:
    sources: list[str] | None = None
    first_day: date | None = None  # publication dates, inclusive
    last_day: date | None = None
    boost: DateWindow | None = None  # lift (not filter) articles published inside it
    recency: RecencyPrior | None = None  # discount older articles' fused scores
    # Chunks searched as if absent (``AskOptions.exclude``'s articles'): dropped from both
    # rankings before fusion, which fetch as many more, so the rest rank as they would in a
    # library without them (bar BM25's term statistics, which still count them).
    excluded_chunks: frozenset[str] = frozenset()

    def day_range(self) -> tuple[int, int] | None:
        """Inclusive day numbers; without a first day, undated articles pass too."""
        if self.first_day is None and self.last_day is None:
            return None
        low = day_number(self.first_day) if self.first_day else UNDATED_DAY
        high = day_number(self.last_day) if self.last_day else LAST_DAY
        return low, high

    def chroma_where(self, carried: list[str] = ()) -> dict[str, Any] | None:
        """Chroma's filter; ``carried``: ids of articles whose story a chosen source carried
        as another outlet (the chunks' metadata names only the first)."""
        conditions: list[dict[str, Any]] = []
        days = self.day_range()
        if days is not None:
            if days[0] > UNDATED_DAY:
                conditions.append({"published_day": {"$gte": days[0]}})
            conditions.append({"published_day": {"$lte": days[1]}})
        if self.sources:
            by_source = {"source": {"$in": list(self.sources)}}
            if carried:
                by_source = {"$or": [by_source, {"article_id": {"$in": list(carried)}}]}
            conditions.append(by_source)
        if not conditions:
            return None
        return conditions[0] if len(conditions) == 1 else {"$and": conditions}
