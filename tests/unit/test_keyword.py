"""The keyword index as search and filters see it: BM25 over stemmed terms, and the catalogue of
committed chunks that day ranges and sources select from (a real tantivy index, in memory).
And the filters' own translations (day numbers, Chroma's where)."""

from __future__ import annotations

from datetime import date

from rag.filters import LAST_DAY, SearchFilters
from rag.keyword import KeywordDocument, KeywordIndex
from rag.types import day_number

MARCH_1, MARCH_5, MARCH_9 = (day_number(date(2024, 3, d)) for d in (1, 5, 9))

DOCUMENTS = [
    KeywordDocument("a-0", "a", "The council voted on the harbour budget", MARCH_1, ("Courier",)),
    KeywordDocument("a-1", "a", "Ferries will run hourly from May", MARCH_1, ("Courier",)),
    KeywordDocument("b-0", "b", "Gazette: council votes again", MARCH_5, ("Gazette", "Wire")),
    KeywordDocument("c-0", "c", "A storm closed the harbour", MARCH_9, ()),
    KeywordDocument("d-0", "d", "Undated notes on the harbour", 0, ("Courier",)),
]


def index() -> KeywordIndex:
    built = KeywordIndex(None)
    built.replace([], DOCUMENTS)
    return built


def test_no_filter_is_no_selection():
    keyword = index()
    assert keyword.select(None, None) is None
    assert keyword.select(None, []) is None
    assert keyword.count(None) == len(keyword) == 5


def test_day_range_is_inclusive_and_drops_undated_from_a_real_range():
    keyword = index()
    selection = keyword.select((MARCH_1, MARCH_5), None)
    assert sorted(keyword.ids(selection, 10)) == ["a-0", "a-1", "b-0"]


def test_until_only_keeps_undated_articles():
    filters = SearchFilters(last_day=date(2024, 3, 5))
    assert filters.day_range() == (0, MARCH_5)
    keyword = index()
    assert sorted(keyword.ids(keyword.select(filters.day_range(), None), 10)) == [
        "a-0", "a-1", "b-0", "d-0",
    ]  # fmt: skip


def test_sources_and_days_combine_and_every_outlet_counts():
    keyword = index()
    selection = keyword.select((MARCH_1, LAST_DAY), ["Courier", "Gazette"])
    assert sorted(keyword.ids(selection, 10)) == ["a-0", "a-1", "b-0"]
    assert keyword.count(selection) == 3
    assert keyword.ids(keyword.select(None, ["Wire"]), 10) == ["b-0"]  # it carried b's story


def test_keep_filters_in_order_and_drops_unknown_ids():
    keyword = index()
    selection = keyword.select(None, ["Courier"])
    assert keyword.keep(["d-0", "zz-9", "b-0", "a-1"], selection) == ["d-0", "a-1"]
    assert keyword.keep(["d-0", "zz-9", "b-0"], None) == ["d-0", "b-0"]


def test_search_ranks_by_stemmed_terms_within_the_selection():
    keyword = index()
    found = [chunk_id for chunk_id, _ in keyword.search("How did the council vote?", 10)]
    assert set(found) == {"a-0", "b-0"}  # "voted", "votes" and "vote" are one term
    harbour = keyword.search("harbour", 10, keyword.select((MARCH_9, MARCH_9), None))
    assert [chunk_id for chunk_id, _ in harbour] == ["c-0"]
    assert keyword.search("the of", 10) == []  # stopwords only
    assert keyword.document_frequency("harbour") == 3
    assert keyword.weights()("storm") > keyword.weights()("harbour")


def test_replace_drops_an_articles_old_chunks():
    keyword = index()
    keyword.replace(["a", "c"], [KeywordDocument("a-9", "a", "A new ferry timetable", MARCH_9)])
    assert len(keyword) == 3  # a's two chunks and c's one out, a's new one in
    assert {c for c, _ in keyword.search("ferries harbour", 10)} == {"a-9", "d-0"}


def test_chroma_where_matches_the_selection_semantics():
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
