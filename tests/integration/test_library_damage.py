"""A read-only library reads; a damaged one says what is wrong and `newsrag repair` fixes what
derives from the docstore (issue #12, reqs. 2 and 3). Real files, real Chroma, real CLI."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

import rag
from ingest import ingest
from rag.store import Library
from tests.support import NEWSRAG, SAMPLE, subprocess_env
from tests.support.articles import write_all

pytestmark = pytest.mark.slow

QUESTION = "Who said Iran will not engage in negotiations?"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A small library, built once; each test damages its own copy."""
    root = tmp_path_factory.mktemp("pristine")
    write_all(root / "news")
    ingest([SAMPLE, root / "news"], rag.load_settings(data_dir=root / "lib"))
    return root / "lib"


@pytest.fixture
def library_dir(pristine, tmp_path):
    copy = tmp_path / "lib"
    shutil.copytree(pristine, copy)
    return copy


def newsrag(data_dir, *args, prefix=(), timeout=300):
    return subprocess.run(
        [*prefix, *NEWSRAG, "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, env=subprocess_env(), timeout=timeout,
    )  # fmt: skip


def said(result) -> str:
    return " ".join((result.stdout + result.stderr).split())


def vectors(data_dir) -> dict[str, np.ndarray]:
    with Library(rag.load_settings(data_dir=data_dir), create=False) as library:
        got = library.collection.get(include=["embeddings"])
    return dict(zip(got["ids"], np.asarray(got["embeddings"]), strict=True))


# --- read-only ---------------------------------------------------------------------------------
def read_only_view(library_dir, tmp_path):
    """(command prefix, data dir) that make the library unwritable for real: a read-only bind
    mount (root, in a private mount namespace), or the permissions (any other user)."""
    if os.geteuid() != 0:
        for path in [library_dir, *library_dir.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
        return (), library_dir
    mount = tmp_path / "read-only"
    mount.mkdir()
    script = 'mount --bind "$0" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    prefix = ("unshare", "-m", "sh", "-c", script, str(library_dir), str(mount))
    probe = subprocess.run([*prefix, "touch", str(mount / "x")], capture_output=True, text=True)
    if "Read-only file system" not in probe.stderr:
        pytest.skip(f"no read-only bind mount here (unshare/mount: {probe.stderr.strip()!r})")
    return prefix, mount


def test_a_read_only_library_answers_lists_and_shows_but_refuses_changes(library_dir, tmp_path):
    before = sorted(p.name for p in library_dir.rglob("*"))
    prefix, data_dir = read_only_view(library_dir, tmp_path)

    answered = newsrag(data_dir, "ask", QUESTION, "--json", prefix=prefix)
    assert answered.returncode == 0, answered.stderr
    assert '"refused": false' in answered.stdout
    listed = newsrag(data_dir, "list", "--json", prefix=prefix)
    assert listed.returncode == 0 and "Supreme Leader" in listed.stdout, listed.stderr
    stats = newsrag(data_dir, "stats", "--json", prefix=prefix)
    assert stats.returncode == 0 and '"read_only": true' in stats.stdout, stats.stderr
    article_id = listed.stdout.split('"id": "')[1].split('"')[0]
    assert newsrag(data_dir, "show", article_id, prefix=prefix).returncode == 0

    for change in (["delete", article_id], ["ingest", str(SAMPLE)], ["repair"]):
        refused = newsrag(data_dir, *change, prefix=prefix)
        assert refused.returncode == 2, refused.stderr
        assert "is read-only for this process" in said(refused)
        assert "Traceback" not in refused.stderr
    assert sorted(p.name for p in library_dir.rglob("*")) == before  # nothing written


def test_a_read_only_library_from_before_feeds_and_outlets_reads_as_having_none(
    library_dir, tmp_path
):
    """A library written before the feedback, outlets, signatures and subscriptions tables,
    now only readable: it can't be given them, so it reads as having none of each."""
    import sqlite3

    with sqlite3.connect(library_dir / "library.sqlite") as db:
        for table in ("feedback", "outlets", "story_signatures", "subscriptions"):
            db.execute(f"DROP TABLE {table}")
    prefix, data_dir = read_only_view(library_dir, tmp_path)
    for command in (["feeds", "list", "--json"], ["feedback"], ["list"],
                    ["ask", "--source", "Millbrook Courier", QUESTION], ["ask", QUESTION]):  # fmt: skip
        result = newsrag(data_dir, *command, prefix=prefix)
        assert result.returncode == 0, (command, result.stderr)
        assert "Traceback" not in result.stderr
    assert newsrag(data_dir, "feeds", "list", "--json", prefix=prefix).stdout.strip() == "[]"


def test_the_chat_window_of_a_read_only_library_refuses_uploads_and_deletes(library_dir, tmp_path):
    prefix, data_dir = read_only_view(library_dir, tmp_path)
    script = f"""
import gradio as gr, rag
from ui.library import LibraryTab
from ui.workspace import Workspace
from ui.server import prepare_library
settings = rag.load_settings(data_dir={str(data_dir)!r})
prepare_library(settings, None)
tab = LibraryTab(Workspace(settings, rag.open_engine(settings=settings)))
for attempt in (lambda: tab.run_ingest(None, "https://example.com/x"), lambda: tab.delete("x", "")):
    try:
        attempt()
    except gr.Error as error:
        print("refused:", error.message)
"""
    result = subprocess.run(
        [*prefix, sys.executable, "-c", script],
        capture_output=True, text=True, env=subprocess_env(), timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("refused: This library is read-only here") == 2


# --- damage and repair -------------------------------------------------------------------------
def test_lost_vectors_are_named_everywhere_and_repair_rebuilds_them(pristine, library_dir):
    """Used to answer from BM25 alone with exit 0; ingest said "unchanged"."""
    # From the pristine copy: Chroma keeps what a process opened in memory, so this process
    # must not open library_dir's vectors before they are deleted.
    original = vectors(pristine)
    shutil.rmtree(library_dir / "chroma")

    asked = newsrag(library_dir, "ask", QUESTION)
    assert asked.returncode == 2
    assert f"passages have no vectors in {library_dir / 'chroma'}" in said(asked)
    assert "run `newsrag repair`" in said(asked)
    api_copy = library_dir.parent / "api-copy"  # Chroma state this process opens stays cached
    shutil.copytree(library_dir, api_copy)
    with pytest.raises(rag.DamagedLibrary, match="newsrag repair"):
        rag.open_engine(api_copy)
    listed = newsrag(library_dir, "list")
    assert listed.returncode == 0 and "warning:" in listed.stderr
    again = newsrag(library_dir, "ingest", str(SAMPLE))
    assert "the library is damaged" in said(again)
    assert newsrag(library_dir, "stats").returncode == 1

    repaired = newsrag(library_dir, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert f"restored {len(original)} vectors" in repaired.stdout
    restored = vectors(library_dir)
    assert restored.keys() == original.keys()
    for chunk_id, vector in original.items():  # the same model on the same text
        np.testing.assert_allclose(restored[chunk_id], vector, atol=1e-5)
    checked = newsrag(library_dir, "stats", "--check", "--json")
    assert checked.returncode == 0 and '"problems": []' in checked.stdout
    assert '"refused": false' in newsrag(library_dir, "ask", QUESTION, "--json").stdout


def test_an_interrupted_repair_is_finished_by_the_next(library_dir, monkeypatch):
    import rag.repair
    from rag.models import LocalEmbedding

    shutil.rmtree(library_dir / "chroma")
    settings = rag.load_settings(data_dir=library_dir)
    monkeypatch.setattr(rag.repair, "REPAIR_BATCH", 2)
    real_encode, calls = LocalEmbedding.encode, []

    def dies_on_the_second_batch(self, texts, batch_size=None):
        calls.append(len(texts))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_encode(self, texts, batch_size)

    monkeypatch.setattr(LocalEmbedding, "encode", dies_on_the_second_batch)
    with Library(settings, create=False) as library, pytest.raises(KeyboardInterrupt):
        rag.repair_library(library, settings)
    monkeypatch.setattr(LocalEmbedding, "encode", real_encode)
    with Library(settings, create=False) as library:
        missing, strays = library.vector_differences()
        total = library.chunk_count()
        assert len(missing) == total - 2 and strays == []  # the first batch stayed
        report = rag.repair_library(library, settings)
        assert report.vectors_restored == total - 2
        assert library.check() == [] and library.damage() == []


def test_a_vector_store_that_cannot_be_opened_is_set_aside_and_rebuilt(library_dir):
    (library_dir / "chroma" / "chroma.sqlite3").write_bytes(os.urandom(200_000))
    asked = newsrag(library_dir, "ask", QUESTION)
    assert asked.returncode == 2 and "cannot be opened" in said(asked)
    repaired = newsrag(library_dir, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "moved the unreadable vector store to" in repaired.stdout
    assert list(library_dir.glob("chroma.damaged-*"))  # kept for a post-mortem
    assert '"refused": false' in newsrag(library_dir, "ask", QUESTION, "--json").stdout


def test_repair_fixes_a_damaged_vector_store_after_a_failed_ingest(library_dir, tmp_path):
    """#26 finding 10: an ingest over a truncated chroma.sqlite3 failed and left a journal row;
    repair then replayed the journal first, into the damaged store, and failed for good with
    the message that says to run repair (and once with a Rust-bindings error, not the reason)."""
    store = library_dir / "chroma" / "chroma.sqlite3"
    with open(store, "r+b") as handle:
        handle.truncate(8192)
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "ferry.txt").write_text(
        "Ferry adds crossings\nThe Bay ferry will add four daily crossings from June.\n"
    )
    failed = newsrag(library_dir, "ingest", str(tmp_path / "more"))
    assert failed.returncode == 2 and "malformed" in said(failed), said(failed)
    checked = newsrag(library_dir, "stats", "--check")
    assert "malformed" in said(checked) and "bindings" not in said(checked)
    repaired = newsrag(library_dir, "repair")
    assert repaired.returncode == 0, said(repaired)
    assert "moved the unreadable vector store" in repaired.stdout
    assert "replayed 1 journal entries" in repaired.stdout
    assert '"refused": false' in newsrag(library_dir, "ask", QUESTION, "--json").stdout
    assert newsrag(library_dir, "ingest", str(tmp_path / "more")).returncode == 0


def test_a_damaged_keyword_index_rebuilds_itself(library_dir):
    damaged = [path for path in (library_dir / "keyword").rglob("*") if path.is_file()]
    assert damaged
    for path in damaged:
        path.write_text("junk")
    answered = newsrag(library_dir, "ask", QUESTION, "--json")
    assert answered.returncode == 0 and '"refused": false' in answered.stdout, answered.stderr
    rebuilt = [path for path in (library_dir / "keyword").rglob("*") if path.is_file()]
    assert rebuilt and all(path.read_bytes() != b"junk" for path in rebuilt)


@pytest.mark.parametrize("damage", ["truncated", "empty", "not a database"])
def test_a_damaged_docstore_is_named_with_restore_advice_by_every_command(library_dir, damage):
    docstore = library_dir / "library.sqlite"
    if damage == "truncated":
        with open(docstore, "r+b") as handle:
            handle.truncate(docstore.stat().st_size // 3)
    elif damage == "empty":
        docstore.write_bytes(b"")
    else:
        docstore.write_bytes(os.urandom(65536))
    for command in (["ask", QUESTION], ["list"], ["stats"], ["show", "x"], ["repair"],
                    ["ingest", str(SAMPLE)], ["ui", "--port", "0"]):  # fmt: skip
        result = newsrag(library_dir, *command)
        assert result.returncode == 2, (command, result.stderr)
        assert str(docstore) in said(result) and "from a backup" in said(result), command
        assert "Traceback" not in result.stderr
    if damage == "empty":  # `ui` did not take the empty file for an empty library to seed
        assert docstore.stat().st_size == 0


def test_a_lost_docstore_beside_vectors_is_not_taken_for_a_new_library(library_dir):
    """#26 finding 13: with library.sqlite deleted, the folder was silently a new library:
    `repair` dropped the other library's vectors and `ui` seeded the sample into it."""
    (library_dir / "library.sqlite").unlink()
    chroma_files = sorted(p for p in (library_dir / "chroma").rglob("*") if p.is_file())
    for command in (["repair"], ["ingest", str(SAMPLE)], ["ui", "--port", "0"], ["stats"]):
        result = newsrag(library_dir, *command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "holds another library's chroma and keyword" in said(result), command
        assert "from a backup" in said(result) and "Traceback" not in result.stderr
    assert not (library_dir / "library.sqlite").exists()  # nothing started over it
    assert sorted(p for p in (library_dir / "chroma").rglob("*") if p.is_file()) == chroma_files


# --- the docstore's copy of each vector (schema 2) ---------------------------------------------
DIMENSIONS = 384  # all-MiniLM-L6-v2's


def stored_vectors(data_dir, ids) -> dict[str, np.ndarray]:
    with Library(rag.load_settings(data_dir=data_dir), create=False) as library:
        return library.chunk_vectors(ids, DIMENSIONS)


def assert_same_vectors(kept: dict[str, np.ndarray], chroma: dict[str, np.ndarray]) -> None:
    assert kept.keys() == chroma.keys()
    worst = max(float(np.abs(kept[i].astype(np.float32) - chroma[i]).max()) for i in chroma)
    assert worst < 1e-3  # float16 of components below 1 in size: ~5e-4 at most


def test_every_committed_chunk_keeps_a_copy_of_its_vector(library_dir):
    chroma = vectors(library_dir)
    assert chroma
    assert_same_vectors(stored_vectors(library_dir, list(chroma)), chroma)


def as_schema_1(library_dir) -> None:
    with sqlite3.connect(library_dir / "library.sqlite") as db:  # as schema 1 wrote it
        db.execute("ALTER TABLE chunks DROP COLUMN vector")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")


def test_a_schema_1_library_is_upgraded_and_repair_copies_its_vectors(library_dir):
    as_schema_1(library_dir)
    chroma = vectors(library_dir)  # opened: upgraded, no copies yet
    assert stored_vectors(library_dir, list(chroma)) == {}
    with sqlite3.connect(library_dir / "library.sqlite") as db:
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == ("2",)
    # A date filter admitting two articles. (A library this small over-fetches rather than
    # ranking exactly; the exact ranking from Chroma's vectors: tests/integration/test_retrieve.)
    asked = newsrag(library_dir, "ask", "Who cut the ribbon on the bridge?", "--since",
                    "2024-01-01", "--json")  # fmt: skip
    assert "Becker" in asked.stdout, asked.stderr
    repaired = newsrag(library_dir, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert f"copied {len(chroma)} vectors into the docstore" in repaired.stdout
    assert_same_vectors(stored_vectors(library_dir, list(chroma)), chroma)


@pytest.mark.parametrize("copy", [b"\x01" * 767, b"\x01" * 512], ids=["odd length", "too short"])
def test_repair_rewrites_vector_copies_of_the_wrong_size(library_dir, copy):
    """Copies of the wrong size (a damaged or hand-edited docstore) are not vectors: they are
    passed over (a filtered search takes Chroma's: tests/integration/test_retrieve.py), and
    `newsrag repair` copies Chroma's over them."""
    chroma = vectors(library_dir)
    with sqlite3.connect(library_dir / "library.sqlite") as db:
        db.execute("UPDATE chunks SET vector = ?", (copy,))
    assert stored_vectors(library_dir, list(chroma)) == {}
    repaired = newsrag(library_dir, "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert f"copied {len(chroma)} vectors into the docstore" in repaired.stdout
    assert_same_vectors(stored_vectors(library_dir, list(chroma)), chroma)


HOLD_S = 8  # seconds: a newsrag process reaches the library in 3-5 here


def test_processes_opening_a_schema_1_library_together_all_get_it_upgraded(library_dir):
    """Whichever process upgrades it, the others wait for its transaction and find it done
    (no "duplicate column"), however their opens interleave."""
    as_schema_1(library_dir)
    command = [*NEWSRAG, "--data-dir", str(library_dir), "stats"]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    # Holding the write lock lines them up at the upgrade, so they race for it. If a process
    # is slower to get there than HOLD_S, the test is weaker, never wrong.
    blocker = sqlite3.connect(library_dir / "library.sqlite", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    opening = [subprocess.Popen(command, env=subprocess_env(), **pipes) for _ in range(3)]
    time.sleep(HOLD_S)
    blocker.execute("COMMIT")
    blocker.close()
    for process in opening:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors
    chroma = vectors(library_dir)
    assert stored_vectors(library_dir, list(chroma)) == {}  # upgraded: the column is there
