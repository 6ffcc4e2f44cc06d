"""SIGKILL and Ctrl-C in the middle of a real ingest process leave the library consistent.

SIGKILL lands at random moments (many rounds); Ctrl-C lands at one known moment, inside a
commit (journal written, vectors on their way to a real Chroma server, the SQLite switch not
made), held there by a proxy: no sleep decides whether the test tests anything."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from rag import load_settings
from rag.store import Library, chunk_ids
from tests.support import NEWSRAG, as_in_a_terminal, subprocess_env
from tests.support.servers import HoldingProxy

pytestmark = pytest.mark.slow

ARTICLES = 240
TOWNS = ["Millbrook", "Ashford", "Kelton", "Brightwater", "Denholm", "Farrow", "Glenmoor"]
TOPICS = ["bridge", "library", "school", "park", "harbour", "market", "railway", "hospital"]


def write_corpus(path) -> None:
    """Synthetic articles of ~2-3 chunks each, written by the test itself."""
    rng = random.Random(7)
    with open(path, "w", encoding="utf-8") as out:
        for number in range(ARTICLES):
            town, topic = rng.choice(TOWNS), rng.choice(TOPICS)
            sentences = [
                f"The {town} council voted {rng.randint(3, 9)} to {rng.randint(0, 4)} on the new "
                f"{topic} plan number {number}, officials said on {rng.choice(['Monday', 'Friday'])}."
                for _ in range(rng.randint(16, 28))
            ]
            record = {
                "id": f"k{number}",
                "title": f"{town} {topic} plan {number}",
                "body": "\n".join(sentences),
                "url": f"https://kill.example/{number}",
                "published_date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            }
            out.write(json.dumps(record) + "\n")


def start_ingest(data_dir, corpus, *options: str, to_interrupt: bool = True) -> subprocess.Popen:
    """``to_interrupt``: many small commits to land in (the run that finishes the job takes
    the default batches: the small ones made it the suite's slowest test)."""
    batch = {"NEWSRAG_EMBED_BATCH_SIZE": "4"} if to_interrupt else {}
    return subprocess.Popen(
        [*NEWSRAG, "--data-dir", str(data_dir), *options, "ingest", str(corpus),
         "--quiet", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # SIGABRT dumps every thread's stack (see finish)
        env=subprocess_env(PYTHONFAULTHANDLER="1", **batch),
        preexec_fn=as_in_a_terminal,
    )  # fmt: skip


def finish(process: subprocess.Popen, timeout: float) -> str:
    """The process's stderr once it ends; one that hangs fails the test with the stack of
    each of its threads, which says where it hangs."""
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        _, stderr = process.communicate(timeout=30)
        threads = stderr.split("Extension modules:")[0]  # not the list of loaded modules
        pytest.fail(f"still running after {timeout} s; its threads:\n{threads[-8000:]}")


def read_docstore(data_dir, sql: str) -> int | None:
    """One number from the docstore, read-only; None while it can't be read (not created yet,
    or busy): the caller asks again instead of mistaking that for 0."""
    try:
        with sqlite3.connect(f"file:{data_dir / 'library.sqlite'}?mode=ro", uri=True) as db:
            row = db.execute(sql).fetchone()
            return int(row[0]) if row else None
    except sqlite3.Error:
        return None


def generation(data_dir) -> int | None:
    return read_docstore(data_dir, "SELECT value FROM meta WHERE key = 'generation'")


def committed_state_is_whole(data_dir) -> None:
    """Before any recovery: every visible article has every one of its vectors in Chroma."""
    import chromadb

    with sqlite3.connect(data_dir / "library.sqlite") as db:
        articles = db.execute("SELECT id, version, chunk_count FROM articles").fetchall()
        chunk_rows = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    assert chunk_rows == sum(count for _, _, count in articles)
    collection = chromadb.PersistentClient(path=str(data_dir / "chroma")).get_collection("news")
    wanted = [cid for aid, version, count in articles for cid in chunk_ids(aid, version, count)]
    present = set(collection.get(ids=wanted, include=[])["ids"]) if wanted else set()
    assert present == set(wanted), "a committed article is missing vectors"


def test_sigkill_at_random_moments_then_resume(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus)
    data_dir = tmp_path / "lib"
    rng = random.Random(11)
    for round_ in range(3):
        before = generation(data_dir) or 0
        process = start_ingest(data_dir, corpus)
        deadline = time.monotonic() + 240
        while (generation(data_dir) or 0) <= before and process.poll() is None:
            assert time.monotonic() < deadline, "ingest made no progress"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 1.5))  # land anywhere: embedding, upsert, commit, delete
        assert process.poll() is None, f"round {round_}: ingest finished before the kill"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert process.returncode == -signal.SIGKILL
        committed_state_is_whole(data_dir)
        with Library(load_settings(data_dir=data_dir)) as library:  # opening replays the journal
            assert library.check() == []
            assert 0 < library.article_count() < ARTICLES

    process = start_ingest(data_dir, corpus, to_interrupt=False)
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["added"] + summary["unchanged"] == ARTICLES
    assert summary["unchanged"] > 0 and summary["failed"] == 0
    with Library(load_settings(data_dir=data_dir)) as library:
        assert library.article_count() == ARTICLES
        assert library.check() == []


def test_ctrl_c_inside_a_commit_stops_cleanly_and_a_rerun_finishes(tmp_path, chroma_server):
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus)
    data_dir = tmp_path / "lib"
    server = ["--chroma-url", chroma_server, "--collection", "ctrl-c"]
    with HoldingProxy(chroma_server, suffix="/upsert", hold_at=2) as proxy:
        process = start_ingest(
            data_dir, corpus, "--chroma-url", proxy.url, "--collection", "ctrl-c"
        )
        assert proxy.held.wait(600), "the ingest never reached its second upsert"
        # Now inside Library.commit: the first batch is committed, the second is journalled
        # and its vectors are in flight.
        assert generation(data_dir) == 1
        assert read_docstore(data_dir, "SELECT COUNT(*) FROM chroma_journal") > 0
        process.send_signal(signal.SIGINT)
        stderr = finish(process, timeout=120)  # a generous bound: it stops in seconds
    assert process.returncode == 130, stderr
    assert "interrupted: the library is consistent" in stderr
    assert "Traceback" not in stderr
    settings = load_settings(data_dir=data_dir, chroma_url=chroma_server, collection="ctrl-c")
    with Library(settings) as library:  # opening replays the journal
        assert library.check() == []
        assert 0 < library.article_count() < ARTICLES
    rerun = start_ingest(data_dir, corpus, *server, to_interrupt=False)
    _, stderr = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, stderr
    with Library(settings) as library:
        assert library.article_count() == ARTICLES
        assert library.check() == []
