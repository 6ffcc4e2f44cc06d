"""Filters over the chunk catalogue: day ranges and sources become masks; masks keep, count and
list chunks. And the filters' own translations (day numbers, Chroma's where)."""

from __future__ import annotations

from datetime import date

import numpy as np

from rag.catalog import ChunkCatalog, ChunkTable
from rag.filters import LAST_DAY, SearchFilters
from rag.types import day_number

MARCH_1, MARCH_5, MARCH_9 = (day_number(date(2024, 3, d)) for d in (1, 5, 9))


def catalog() -> ChunkCatalog:
    return ChunkCatalog.from_table(
        ChunkTable(
            ids=["a-0", "a-1", "b-0", "c-0", "d-0"],
            texts=["", "", "", "", ""],
            days=[MARCH_1, MARCH_1, MARCH_5, MARCH_9, 0],  # d is undated
            sources=["Courier", "Courier", "Gazette", "", "Courier"],
        )
    )


def test_no_filter_is_no_mask():
    assert catalog().mask(None, None) is None
    assert catalog().mask(None, []) is None
    assert catalog().admitted_count(None) == 5


def test_day_range_mask_is_inclusive_and_drops_undated_from_a_real_range():
    mask = catalog().mask((MARCH_1, MARCH_5), None)
    assert mask.tolist() == [1, 1, 1, 0, 0]
    assert mask.dtype == np.float32  # bm25s takes it as weights


def test_until_only_keeps_undated_articles():
    filters = SearchFilters(last_day=date(2024, 3, 5))
    assert filters.day_range() == (0, MARCH_5)
    assert catalog().mask(filters.day_range(), None).tolist() == [1, 1, 1, 0, 1]


def test_sources_and_days_combine():
    mask = catalog().mask((MARCH_1, LAST_DAY), ["Courier", "Gazette"])
    assert catalog().admitted(mask) == ["a-0", "a-1", "b-0"]
    assert catalog().admitted_count(mask) == 3


def test_keep_filters_in_order_and_drops_unknown_ids():
    index = catalog()
    mask = index.mask(None, ["Courier"])
    assert index.keep(["d-0", "zz-9", "b-0", "a-1"], mask) == ["d-0", "a-1"]
    assert index.keep(["d-0", "zz-9", "b-0"], None) == ["d-0", "b-0"]


def test_chroma_where_matches_the_mask_semantics():
    assert SearchFilters().chroma_where() is None
    assert SearchFilters(last_day=date(2024, 3, 5)).chroma_where() == {
        "published_day": {"$lte": MARCH_5}
    }
    both = SearchFilters(sources=["Courier"], first_day=date(2024, 3, 1), last_day=date(2024, 3, 9))
    assert both.chroma_where() == {
        "$and": [
            {"published_day": {"$gte": MARCH_1}},
            {"published_day": {"$lte": MARCH_9}},
            {"source": {"$in": ["Courier"]}},
        ]
    }
