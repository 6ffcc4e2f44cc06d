"""Keeping the keyword index (``rag.keyword``) in step with the docstore.

The docstore is the truth; the index under ``<data_dir>/keyword`` derives from it. Every write
that changes what search may find (a commit, a delete, a new outlet of a story) queues the ids
of the articles it touched in ``keyword_queue``, in the same SQLite transaction. ``sync`` takes
the queue after the position the index has applied and, in one tantivy commit, drops those
articles' documents and indexes their current chunks; then it records the new position in the
index folder (``state.json``). A crash between the two only makes the next sync apply the same
entries again, which gives the same index. So a crash anywhere leaves a queue the next sync
applies (the next write, or the next question in a process that may write), and a change costs
its own size, not the library's.

An index that is missing, unreadable, of another format, or whose chunk count disagrees with
the docstore's, is built whole from the docstore in a scratch folder renamed into place (a new
library, one from before this index, ``newsrag repair``). A read-only library without a current
one gets one in memory. Each process keeps its open index and reloads it when the library's
generation or the index's applied position moves on.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rag.keyword import KeywordDocument, KeywordIndex

FORMAT = "tantivy-1"  # an index of another format (or the old bm25s folders) is rebuilt
STATE_FILE = "state.json"  # {"format", "applied"}: written after each tantivy commit
LOCK_FILE = ".keyword.lock"  # in the data dir: one process changes the index at a time


class KeywordSource(Protocol):
    """What the index is derived from (``rag.store.Library``)."""

    data_dir: Path
    read_only: bool

    @property
    def generation(self) -> int: ...

    def chunk_count(self) -> int: ...

    def keyword_queue(self, after: int) -> tuple[list[str], int]: ...

    def keyword_documents(self, article_ids: list[str] | None) -> Iterator[KeywordDocument]: ...

    def prune_keyword_queue(self, upto: int) -> None: ...


@dataclass
class _Open:
    index: KeywordIndex
    seen: tuple[int, int]  # (library generation, applied position) when last reloaded


_lock = threading.RLock()  # guards _open; never held while waiting for the file lock
_open: dict[Path, _Open] = {}  # per index folder, in this process


def index_folder(data_dir: Path) -> Path:
    return data_dir / "keyword"


def keyword_index(library: KeywordSource) -> KeywordIndex:
    """The library's keyword index as of now (brought up to date first when this process may
    write and no other process is doing it)."""
    folder = index_folder(library.data_dir)
    with _lock:
        current = _open.get(folder.resolve())
        if current is not None and current.seen == (library.generation, _applied(folder)):
            return current.index
    # Synced outside _lock: a sync may wait for the index's file lock, and a thread of this
    # process holding that (an ingest rebuilding the index) takes _lock to finish. Waiting
    # under _lock hung `newsrag ui --watch` over a new library at start-up.
    if not library.read_only and not sync(library, wait=False) and _state(folder) is None:
        sync(library, wait=True)  # another process or thread is building it: wait for it
    with _lock:
        seen = (library.generation, _applied(folder))
        if not library.read_only:
            current = _open.get(folder.resolve())  # a rebuild dropped the one held before
            if current is None or current.index.path is None:
                current = _Open(KeywordIndex(folder), seen)
            current.index.reload()
        else:  # read-only: the index on disk if it is current, else one in memory
            found = _on_disk(folder, library)
            current_on_disk = found is not None and not found.pending
            current = _Open(found.index if current_on_disk else _build(None, library), seen)
        current.seen = seen
        _open[folder.resolve()] = current
        return current.index


def sync(library: KeywordSource, *, wait: bool = True) -> bool:
    """Apply the queued changes (or build the index whole when it isn't usable). ``wait``:
    block while another process syncs; otherwise give up at once. True when it ran."""
    folder = index_folder(library.data_dir)
    with _exclusive(library.data_dir, wait) as held:
        if not held:
            return False
        found = _on_disk(folder, library)
        if found is None:
            position = _rebuild(folder, library)
        else:
            position = found.position
            if found.pending:
                found.index.replace(found.pending, library.keyword_documents(found.pending))
                _write_state(folder, position)
        library.prune_keyword_queue(upto=position)
        return True


def rebuild(library: KeywordSource) -> KeywordIndex:
    """Build the index whole from the docstore (``newsrag repair``)."""
    folder = index_folder(library.data_dir)
    with _exclusive(library.data_dir, wait=True):
        _rebuild(folder, library)
    return keyword_index(library)


# ------------------------------------------------------------------------------- internals
@contextlib.contextmanager
def _exclusive(data_dir: Path, wait: bool) -> Iterator[bool]:
    with open(data_dir / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _state(folder: Path) -> dict | None:
    try:
        return json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None


def _applied(folder: Path) -> int:
    state = _state(folder)
    return int(state.get("applied", -1)) if state else -1


def _write_state(folder: Path, applied: int) -> None:
    scratch = folder / f"{STATE_FILE}.tmp-{os.getpid()}"
    scratch.write_text(json.dumps({"format": FORMAT, "applied": applied}))
    scratch.replace(folder / STATE_FILE)


@dataclass
class _OnDisk:
    index: KeywordIndex
    pending: list[str]  # articles queued after the position it applied
    position: int  # the queue's last position


def _on_disk(folder: Path, library: KeywordSource) -> _OnDisk | None:
    """The index in ``folder`` and what it hasn't applied yet; None when it must be built: not
    of this format, doesn't open, or, having applied the whole queue, doesn't hold the
    docstore's chunk count (damaged, or another library's)."""
    state = _state(folder)
    if not state or state.get("format") != FORMAT:
        return None
    try:
        index = KeywordIndex(folder)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # any damage means: build it again (tantivy may panic, not raise)
        return None
    pending, position = library.keyword_queue(after=int(state["applied"]))
    if not pending and len(index) != library.chunk_count():
        return None
    return _OnDisk(index, pending, position)


def _rebuild(folder: Path, library: KeywordSource) -> int:
    """Build into a scratch folder and rename it into place; the queue position it holds. That
    is read before the documents, so whatever changes meanwhile is queued after it: applied
    again."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    _, position = library.keyword_queue(after=-1)
    _build(scratch, library)
    _write_state(scratch, position)
    shutil.rmtree(folder, ignore_errors=True)
    scratch.rename(folder)
    shutil.rmtree(library.data_dir / "bm25", ignore_errors=True)  # the index before this one
    for stale in folder.parent.glob(f"{folder.name}.tmp-*"):  # left by a crashed build
        shutil.rmtree(stale, ignore_errors=True)
    with _lock:
        _open.pop(folder.resolve(), None)
    return position


def _build(path: Path | None, library: KeywordSource) -> KeywordIndex:
    index = KeywordIndex(path, create=True)
    index.replace([], library.keyword_documents(None))
    return index
