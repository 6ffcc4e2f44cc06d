"""Dense search with filters: ranking the admitted vectors exactly, over-fetching a plain
Chroma query and filtering here, or giving Chroma the admitted ids, must give exactly what
Chroma's own (much slower) filtered query gives."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import pytest

import rag
from ingest import ingest
from rag import retrieve
from rag.filters import SearchFilters

pytestmark = pytest.mark.slow
TOPICS = ["bridge repair", "library branch", "jazz festival", "ferry timetable", "school budget",
          "harbour dredging", "bus routes", "tree planting"]  # fmt: skip
SOURCES = ["Millbrook Courier", "Harbor Gazette", "Valley Times"]
FIRST_DAY = date(2024, 1, 1)


RECORDS = [
    {
        "id": f"r{i}",
        "title": f"Council debates the {TOPICS[i % len(TOPICS)]} again ({i})",
        "body": f"The Millbrook council debated the {TOPICS[i % len(TOPICS)]} on day {i}. "
        f"Councillor number {i} said the {TOPICS[(i * 3) % len(TOPICS)]} mattered more.",
        "source": SOURCES[i % len(SOURCES)],
        "published_date": (FIRST_DAY + timedelta(days=i)).isoformat(),
    }
    for i in range(48)
]


def library_of(records: list[dict], folder) -> rag.NewsQueryEngine:
    export = folder / "export.jsonl"
    export.write_text("\n".join(json.dumps(r) for r in records))
    ingest([export], rag.load_settings(data_dir=folder / "lib"))
    return rag.open_engine(folder / "lib")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return library_of(RECORDS, tmp_path_factory.mktemp("retrieve"))


def chroma_filtered(engine, query: str, filters: SearchFilters, k: int) -> list[str]:
    vector = engine.embed_model.get_query_embedding(query)
    found = engine.library.collection.query(
        query_embeddings=[vector], n_results=k, where=filters.chroma_where(), include=[]
    )
    return found["ids"][0]


CASES = {
    "hide future": SearchFilters(last_day=FIRST_DAY + timedelta(days=30)),
    "excludes nothing": SearchFilters(last_day=FIRST_DAY + timedelta(days=100)),
    "one week": SearchFilters(
        first_day=FIRST_DAY + timedelta(days=10), last_day=FIRST_DAY + timedelta(days=16)
    ),
    "one day": SearchFilters(
        first_day=FIRST_DAY + timedelta(days=5), last_day=FIRST_DAY + timedelta(days=5)
    ),
    "source": SearchFilters(sources=["Harbor Gazette"]),
    "source and days": SearchFilters(
        sources=["Valley Times"], last_day=FIRST_DAY + timedelta(days=20)
    ),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    "exact_limit, overfetch, id_limit",
    # exact: (1,) makes every filter of this small library selective; chroma: (1,) with no
    # exact path and no id list leaves Chroma's own filtered query.
    [(2000, (1,), 0), (0, (10, 50), 0), (0, (2, 4), 0), (0, (1,), 100_000), (0, (1,), 0)],
    ids=["exact", "overfetch", "overfetch-small", "ids", "chroma"],
)
def test_filtered_dense_search_equals_chromas_filtered_query(
    engine, monkeypatch, case, exact_limit, overfetch, id_limit
):
    monkeypatch.setattr(retrieve, "EXACT_LIMIT", exact_limit)
    monkeypatch.setattr(retrieve, "OVERFETCH", overfetch)
    monkeypatch.setattr(retrieve, "ID_FILTER_LIMIT", id_limit)
    filters = CASES[case]
    for query in ["bridge repair debate", "what did the councillor say about buses?"]:
        expected = chroma_filtered(engine, query, filters, 6)
        assert engine.retriever.dense_ids(query, filters, 6) == expected
        assert expected  # every case has matching chunks


def test_an_admitted_chunk_whose_vector_is_gone_falls_back_to_chromas_filter(engine, monkeypatch):
    """A concurrent update deletes old vectors before this process's keyword index hears of it:
    Chroma refuses an id list naming one, so the search uses its filter instead."""
    monkeypatch.setattr(retrieve, "EXACT_LIMIT", 0)
    monkeypatch.setattr(retrieve, "OVERFETCH", (1,))
    filters = CASES["one week"]
    index = engine.library.keyword_index()
    admitted = index.ids(index.select(filters.day_range(), None), 100)
    collection = engine.library.collection
    gone = collection.get(ids=admitted[:1], include=["embeddings", "metadatas", "documents"])
    collection.delete(ids=admitted[:1])
    try:
        expected = chroma_filtered(engine, "bridge repair debate", filters, 6)
        assert admitted[0] not in expected and expected
        assert engine.retriever.dense_ids("bridge repair debate", filters, 6) == expected
    finally:
        collection.upsert(
            ids=gone["ids"],
            embeddings=gone["embeddings"],
            metadatas=gone["metadatas"],
            documents=gone["documents"],
        )


def test_filters_reach_the_answers(engine):
    answer = engine.ask("What did the council debate on day 12?", sources=["Millbrook Courier"],
                        since="2024-01-10", until="2024-01-20", as_of="2024-03-01")  # fmt: skip
    assert answer.retrieved  # the filters admit chunks: something must come back
    for passage in answer.retrieved:
        assert passage.source == "Millbrook Courier"
        assert date(2024, 1, 10) <= passage.published_date <= date(2024, 1, 20)


def test_excluded_articles_are_searched_as_if_the_library_had_never_held_them(engine, tmp_path):
    question = "Which councillor said the bridge repair mattered more?"
    before = [p.article_id for p in engine.answer_context(question, as_of="2024-03-01").passages]
    # Record ids: the two best passages' articles (which they are varies between builds: BM25
    # ties among these look-alike articles fall in index order), and one found or not.
    excluded = [engine.library.get(article_id).origin_key for article_id in before[:2]] + ["r3"]
    ids = {engine.library.resolve(key).id for key in excluded}
    without = engine.answer_context(question, as_of="2024-03-01", exclude=excluded)
    assert len(without.passages) == len(before)  # as many found: the rest move up
    assert not ids & {p.article_id for p in without.passages}
    # Exactly so by meaning; BM25's term statistics still count the excluded articles, which
    # in a library of 48 two-sentence articles reorders keyword ranks, so compare dense alone.
    kept = library_of([r for r in RECORDS if r["id"] not in excluded], tmp_path)
    dense = rag.open_engine(engine.library.data_dir, retrieval_mode="dense")
    dense_kept = rag.open_engine(kept.library.data_dir, retrieval_mode="dense")
    found = dense.answer_context(question, as_of="2024-03-01", exclude=excluded).passages
    expected = dense_kept.answer_context(question, as_of="2024-03-01").passages

    def records(engine, passages):  # article ids hash the export's path: compare record ids
        return [(engine.library.get(p.article_id).origin_key, p.start, p.score) for p in passages]

    assert records(dense, found) == records(dense_kept, expected)


def test_an_excluded_article_is_named_when_unknown_or_asked_for(engine):
    with pytest.raises(rag.QueryError, match="exclude 'no-such-record': no such article"):
        engine.ask("Who debated the ferry timetable?", exclude=["no-such-record"])
    with pytest.raises(rag.QueryError, match="article 'r5': it is among the excluded articles"):
        engine.ask("Who debated the ferry timetable?", exclude=["r5"], article="r5")


@pytest.mark.parametrize("copy", [b"\x01" * 767, b"\x01" * 512], ids=["odd length", "too short"])
def test_exact_ranking_passes_over_vector_copies_of_the_wrong_size(engine, monkeypatch, copy):
    """A copy of the wrong size (a damaged or hand-edited docstore) is not a vector: the exact
    ranking takes Chroma's instead of failing on it (`newsrag repair` rewrites it:
    tests/integration/test_library_damage.py)."""
    monkeypatch.setattr(retrieve, "OVERFETCH", (1,))
    docstore = engine.library.settings.docstore_path
    with sqlite3.connect(docstore) as db:
        kept = db.execute("SELECT vector, id FROM chunks").fetchall()
        db.execute("UPDATE chunks SET vector = ?", (copy,))
    try:
        for case in ["hide future", "one week", "source"]:
            expected = chroma_filtered(engine, "bridge repair debate", CASES[case], 6)
            assert engine.retriever.dense_ids("bridge repair debate", CASES[case], 6) == expected
    finally:
        with sqlite3.connect(docstore) as db:
            db.executemany("UPDATE chunks SET vector = ? WHERE id = ?", kept)


@pytest.mark.parametrize("kept", ["none", "half"])
def test_exact_ranking_takes_chromas_vectors_for_chunks_the_docstore_has_none_for(
    engine, monkeypatch, kept
):
    """A library from before schema 2 has no vector copies in its docstore until `newsrag
    repair`; its exact ranking reads those chunks' vectors from Chroma, same results."""
    monkeypatch.setattr(retrieve, "OVERFETCH", (1,))
    real = engine.library.chunk_vectors
    taken = []

    def some_stored(ids, dimensions):
        stored = real(ids, dimensions) if kept == "half" else {}
        taken.extend(ids)
        return {i: v for n, (i, v) in enumerate(stored.items()) if n % 2 == 0}

    monkeypatch.setattr(engine.library, "chunk_vectors", some_stored)
    for case in ["hide future", "one week", "source"]:
        expected = chroma_filtered(engine, "bridge repair debate", CASES[case], 6)
        assert engine.retriever.dense_ids("bridge repair debate", CASES[case], 6) == expected
    assert taken  # the exact path ran
