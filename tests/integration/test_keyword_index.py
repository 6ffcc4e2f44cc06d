"""The keyword index grows with the library instead of being rebuilt (rag/indexes.py): a change
re-indexes only the articles it touched; a serving process sees additions and deletions made by
another process without a restart; a writer that dies between its SQLite commit and the index
update, or between the index commit and its record, leaves a queue the next sync applies, and
applying it twice gives the same index; a library from before (bm25s folders) is migrated."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import rag
from ingest import ingest
from rag import indexes
from rag.indexes import STATE_FILE, index_folder
from tests.support import REPO, subprocess_env

FILLER = "Officials answered questions from residents at the meeting for an hour. " * 5
STORIES = {
    "seawall": "The council voted 6 to 1 to build the harbour seawall.",
    "ferry": "A new ferry timetable starts in May with hourly crossings.",
    "festival": "The lantern festival drew twelve thousand visitors downtown.",
}


def add(tmp_path, settings, *names: str) -> None:
    rows = [
        {"id": name, "title": f"{name.title()} news", "source": "Harbor Times",
         "published": "2026-11-20", "body": f"{STORIES[name]} {FILLER}"}
        for name in names
    ]  # fmt: skip
    path = tmp_path / f"{'-'.join(names)}.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    summary = ingest([str(path)], settings)
    assert summary.ok, summary.to_dict()


def found(library, query: str) -> set[str]:
    """Titles of the articles whose chunks keyword search finds for ``query``."""
    hits = library.keyword_index().search(query, 20)
    stored = library.stored_chunks(chunk_id for chunk_id, _ in hits)
    return {passage.title for passage in stored.values()}


def segment_files(settings) -> set[str]:
    return {p.name for p in index_folder(settings.data_dir).iterdir() if p.suffix == ".idx"}


def test_a_change_indexes_only_the_articles_it_touched(tmp_path, settings):
    add(tmp_path, settings, "seawall", "festival")
    before = segment_files(settings)
    add(tmp_path, settings, "ferry")
    with rag.open_library(settings) as library:
        assert len(library.keyword_index()) == library.chunk_count()
        assert found(library, "ferry timetable") == {"Ferry news"}
        assert library.keyword_queue(after=-1)[0] == []  # applied and pruned
    after = segment_files(settings)
    assert before < after  # the first segment stays as it was; the new article is one more
    with rag.open_library(settings) as library:
        rag.delete_articles(library, [library.resolve("festival").id])
        assert found(library, "lantern festival visitors") == set()
        assert len(library.keyword_index()) == library.chunk_count()
    assert before < segment_files(settings)  # a delete marks documents; nothing is rebuilt


SERVER = """
import json, sys
import rag
library = rag.open_library(rag.load_settings(data_dir=sys.argv[1]))
for line in sys.stdin:
    hits = library.keyword_index().search(line, 20)
    titles = sorted({p.title for p in library.stored_chunks(c for c, _ in hits).values()})
    print(json.dumps(titles), flush=True)
"""


def test_a_serving_process_sees_another_process_changes_without_a_restart(tmp_path, settings):
    add(tmp_path, settings, "seawall")
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(settings.data_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
        env=subprocess_env(),
    )  # fmt: skip

    def ask(query: str) -> list[str]:
        server.stdin.write(query + "\n")
        server.stdin.flush()
        return json.loads(server.stdout.readline())

    try:
        assert ask("harbour seawall vote") == ["Seawall news"]
        assert ask("ferry timetable") == []
        add(tmp_path, settings, "ferry")  # this process writes; the server only reads
        assert ask("ferry timetable") == ["Ferry news"]
        with rag.open_library(settings) as library:
            rag.delete_articles(library, [library.resolve("seawall").id])
        assert ask("harbour seawall vote") == []
    finally:
        server.stdin.close()
        server.wait(60)


def test_a_writer_that_died_before_updating_the_index_is_caught_up(tmp_path, settings, monkeypatch):
    add(tmp_path, settings, "seawall")

    def died(library, **_):  # the process ends after its SQLite commit, before the index
        raise KeyboardInterrupt

    monkeypatch.setattr("rag.store.library.sync", died)
    with pytest.raises(KeyboardInterrupt):
        add(tmp_path, settings, "ferry")
    monkeypatch.undo()
    with rag.open_library(settings) as library:
        ferry = library.resolve("ferry").id
        assert library.keyword_queue(after=-1)[0] == [ferry]  # queued with the commit
    # Another process, only asking, brings the index up to date first.
    asked = subprocess.run(
        [sys.executable, "-c", SERVER, str(settings.data_dir)], input="ferry timetable\n",
        capture_output=True, text=True, cwd=REPO, env=subprocess_env(), timeout=300,
    )  # fmt: skip
    assert json.loads(asked.stdout) == ["Ferry news"], asked.stderr
    with rag.open_library(settings) as library:
        assert library.keyword_queue(after=-1)[0] == []
        assert len(library.keyword_index()) == library.chunk_count()


def test_applying_the_same_changes_again_gives_the_same_index(tmp_path, settings):
    add(tmp_path, settings, "seawall")
    state_path = index_folder(settings.data_dir) / STATE_FILE
    applied_before = json.loads(state_path.read_text())["applied"]
    add(tmp_path, settings, "ferry", "festival")
    with rag.open_library(settings) as library:
        expected = library.chunk_count()
        # As if the writer died after the index's commit but before recording it: the queue
        # entries are still there, the record says they weren't applied.
        with library._transaction() as db:
            db.executemany(
                "INSERT INTO keyword_queue (article_id) VALUES (?)",
                [(library.resolve("ferry").id,), (library.resolve("festival").id,)],
            )
        state = json.loads(state_path.read_text())
        state_path.write_text(json.dumps({**state, "applied": applied_before}))
        index = library.keyword_index()
        assert len(index) == expected  # no chunk twice
        hits = [chunk_id for chunk_id, _ in index.search("ferry timetable hourly crossings", 50)]
        assert len(hits) == len(set(hits))


def test_a_library_from_before_is_given_the_index_built_from_its_docstore(tmp_path, settings):
    add(tmp_path, settings, "seawall", "ferry")
    folder = index_folder(settings.data_dir)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    (settings.data_dir / "bm25" / "gen-3").mkdir(parents=True)  # what the bm25s index left
    with rag.open_library(settings) as library:
        assert found(library, "ferry timetable") == {"Ferry news"}
        assert len(library.keyword_index()) == library.chunk_count()
    assert not (settings.data_dir / "bm25").exists()


WATCH_S = 3  # how long the waiting thread is watched
LOCK_WAIT_S = 2  # far more than the fast path holds the lock for


def test_a_thread_waiting_for_a_build_does_not_hold_what_the_build_needs(tmp_path, settings):
    """While one thread builds the index (holding its file lock), another asking for it waits
    without holding the in-process lock the build takes to finish. It did hold it, and
    `newsrag ui --watch` over a new library hung at start-up: the window's engine waited
    for the poller's first build, which waited for the engine."""
    add(tmp_path, settings, "seawall")
    with rag.open_library(settings) as library:
        shutil.rmtree(index_folder(settings.data_dir))  # no index yet: it must be built
        with indexes._exclusive(settings.data_dir, wait=True):  # a build under way
            waiter = threading.Thread(target=library.keyword_index, daemon=True)
            waiter.start()
            # A slower waiter only makes this weaker (it holds the lock for less of the
            # time watched), never wrong.
            deadline = time.monotonic() + WATCH_S
            while time.monotonic() < deadline:
                assert indexes._lock.acquire(timeout=LOCK_WAIT_S), "waits holding the lock"
                indexes._lock.release()
                time.sleep(0.05)
            assert waiter.is_alive()  # still waiting for the build
        waiter.join(timeout=120)
        assert not waiter.is_alive()
        assert found(library, "harbour seawall") == {"Seawall news"}


def test_a_commit_bigger_than_one_chroma_call_goes_in_pieces(settings):
    """A Ray ingest's driver (and the scale benchmark) commits thousands of chunks at once:
    more than Chroma takes in one upsert (5,461 here)."""
    from rag.store import Library, PendingArticle, chunk_ids
    from rag.types import Article, Chunk

    words = [f"word{i}" for i in range(6000)]
    body = " ".join(words)
    article = Article(id="big", title="Big", body=body, content_hash="h", version="v1",
                      chunk_count=len(words))  # fmt: skip
    starts = [body.index(f"word{i} ") if i < len(words) - 1 else body.rindex("word") for i in
              range(len(words))]  # fmt: skip
    chunks = [
        Chunk(id=cid, article_id="big", index=i, start=start, end=start + len(words[i]),
              text=words[i], embed_text=words[i])
        for i, (cid, start) in enumerate(zip(chunk_ids("big", "v1", len(words)), starts,
                                             strict=True))
    ]  # fmt: skip
    vectors = np.random.default_rng(0).normal(size=(len(words), 384))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with Library(settings) as library, library.writing():
        library.commit([PendingArticle(article, chunks, vectors.tolist())])
        assert library.chunk_count() == library.collection.count() == 6000
        assert library.check() == []
        assert len(library.keyword_index().search("word5999", 5)) == 1
