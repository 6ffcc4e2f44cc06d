"""Ingestion with the real embedding model and a real (embedded) Chroma."""

from __future__ import annotations

import json
import os
from datetime import date

import pytest

from ingest import IngestOptions, ingest
from rag.store import Library
from tests.support import SAMPLE
from tests.support.articles import BRIDGE, FESTIVAL, write_all

pytestmark = pytest.mark.slow


def documents(library: Library) -> list[str]:
    return library.collection.get(include=["documents"])["documents"]


def test_sample_library_ingests_cleanly_and_reingest_is_a_no_op(settings):
    first = ingest([SAMPLE], settings)
    assert (first.added, first.failed) == (1, 0)
    assert first.chunks_embedded >= 2
    second = ingest([SAMPLE], settings)
    assert (second.added, second.updated, second.unchanged, second.chunks_embedded) == (0, 0, 1, 0)
    with Library(settings) as library:
        assert library.check() == []
        [article] = library.articles()
        assert article.title.startswith("According to the Supreme Leader")
        assert article.source is None and article.published_date is None
        texts = documents(library)
        assert len(texts) == article.chunk_count
        assert not any("Instagram" in text for text in texts)
        assert any("Rafael Grossi" in text for text in texts)


def test_metadata_reaches_chunks_with_day_number(settings, tmp_path):
    write_all(tmp_path / "news")
    summary = ingest([tmp_path / "news"], settings)
    assert summary.added == 3
    with Library(settings) as library:
        got = library.collection.get(
            where={"published_day": {"$gte": date(2024, 3, 1).toordinal()}}, include=["metadatas"]
        )
        titles = {meta["title"] for meta in got["metadatas"]}
        assert titles == {
            "Harbour bridge reopens after two-year repair",
            "Millbrook library gets a new branch in the east end",
        }
        meta = next(m for m in got["metadatas"] if m["title"].startswith("Harbour"))
        assert meta["source"] == "Millbrook Courier" and meta["author"] == "Dana Ortiz"
        assert meta["published_date"] == "2024-03-05"
        assert meta["url"] == "https://courier.example/2024/03/05/harbour-bridge-reopens"
        article = library.get(meta["article_id"])
        assert article.body[meta["start"] : meta["end"]] in article.body
        festival = next(a for a in library.articles() if a.title.startswith("Riverside"))
        assert festival.published_date is None  # a .txt without front matter: date unknown


def test_changed_file_replaces_its_chunks(settings, write):
    path = write("bridge.md", BRIDGE)
    ingest([path], settings)
    path.write_text(BRIDGE.replace("48 million", "52 million"), encoding="utf-8")
    summary = ingest([path], settings)
    assert (summary.updated, summary.added) == (1, 0)
    with Library(settings) as library:
        assert library.article_count() == 1
        assert library.check() == []
        texts = " ".join(documents(library))
        assert "52 million" in texts and "48 million" not in texts


def test_metadata_only_change_is_an_update(settings, write):
    path = write("bridge.md", BRIDGE)
    ingest([path], settings)
    path.write_text(BRIDGE.replace("date: 2024-03-05", "date: 2024-03-06"), encoding="utf-8")
    assert ingest([path], settings).updated == 1
    with Library(settings) as library:
        assert library.articles()[0].published_date == date(2024, 3, 6)
        assert library.check() == []


def test_same_text_or_same_url_is_stored_once(settings, write, tmp_path):
    write("a/festival.txt", FESTIVAL)
    write("b/festival-copy.txt", FESTIVAL.replace("\n", "\n\n"))  # same normalised text
    records = [
        {"title": "One", "body": "First version.", "url": "https://ex.com/x?utm_source=feed"},
        {"title": "Two", "body": "Other text.", "url": "https://EX.com/x"},
    ]
    export = write("export.jsonl", "\n".join(json.dumps(r) for r in records))
    summary = ingest([tmp_path / "in" / "a", tmp_path / "in" / "b", export], settings)
    assert summary.added == 2 and summary.unchanged == 2
    with Library(settings) as library:
        assert library.article_count() == 2
        assert library.check() == []


def test_sync_removes_articles_whose_files_are_gone(settings, tmp_path):
    folder = tmp_path / "news"
    write_all(folder)
    ingest([folder], settings)
    (folder / "festival.txt").unlink()
    summary = ingest([folder], settings, sync=True)
    assert (summary.removed, summary.unchanged) == (1, 2)
    with Library(settings) as library:
        assert library.article_count() == 2
        assert library.check() == []


def test_sync_keeps_articles_of_files_that_failed_to_load(settings, tmp_path):
    folder = tmp_path / "news"
    write_all(folder)
    ingest([folder], settings)
    (folder / "festival.txt").write_bytes(b"\xff\xfe broken now")
    summary = ingest([folder], settings, sync=True)
    assert (summary.removed, summary.failed) == (0, 1)
    with Library(settings) as library:
        assert library.article_count() == 3


def test_include_and_exclude_globs(settings, tmp_path):
    folder = tmp_path / "news"
    write_all(folder)
    (folder / ".hidden.txt").write_text("Hidden\nShould never be read.", encoding="utf-8")
    assert ingest([folder], settings, include=["*.md"]).added == 2
    # The same options given whole, as `newsrag ingest` (and a Ray ingest) pass them (#27).
    assert ingest([folder], settings, IngestOptions(exclude=("bridge*",))).added == 1  # festival
    with pytest.raises(TypeError, match="unknown ingest option 'exlude'"):
        ingest([folder], settings, exlude=["bridge*"])


def test_delete_removes_vectors(settings, tmp_path):
    write_all(tmp_path / "news")
    ingest([tmp_path / "news"], settings)
    with Library(settings) as library:
        victim = library.articles()[0]
        assert library.delete([victim.id, "no-such-id"]) == [victim.id]
        assert library.get(victim.id) is None
        assert library.check() == []
        ids = library.collection.get(where={"article_id": victim.id})["ids"]
        assert ids == []


def test_llamaindex_opens_the_collection(settings):
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from rag.models import embedding_model

    ingest([SAMPLE], settings)
    with Library(settings) as library:
        store = ChromaVectorStore(chroma_collection=library.collection)
        index = VectorStoreIndex.from_vector_store(store, embed_model=embedding_model(settings))
        nodes = index.as_retriever(similarity_top_k=1).retrieve(
            "Who heads the U.N. nuclear watchdog?"
        )
        assert "Rafael Grossi" in nodes[0].node.get_content()
        assert nodes[0].node.metadata["title"].startswith("According to the Supreme Leader")


def test_another_embedding_model_is_refused_on_an_existing_library(settings):
    from rag.store import LibraryError

    ingest([SAMPLE], settings)
    with Library(settings) as library, pytest.raises(LibraryError, match="embedded with"):
        library.check_embedding("/some/other/model")


def test_python_api_accepts_a_single_path_and_default_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "lib"))
    summary = ingest(SAMPLE)
    assert summary.added == 1 and summary.ok
    assert os.path.isfile(tmp_path / "lib" / "library.sqlite")


def test_an_id_prefix_is_text_not_a_like_pattern(settings, tmp_path):
    """``newsrag show '%2b1e'`` / ``delete '%2b1e'`` once matched (and deleted) an article:
    ``%`` and ``_`` were LIKE wildcards."""
    write_all(tmp_path / "news")
    ingest([tmp_path / "news"], settings)
    with Library(settings) as library:
        article = library.articles()[0]
        assert library.resolve(article.id[:6]).id == article.id  # a real prefix still works
        for pattern in (f"%{article.id[2:6]}", f"_{article.id[1:6]}", "%"):
            assert library.resolve(pattern) is None, pattern
