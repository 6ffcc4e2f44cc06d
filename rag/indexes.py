"""What search derives from the docstore: the chunk catalogue and the keyword index.

bm25s indexes are immutable, so both are rebuilt from the docstore when the library's
generation has moved on (after an ingest, an update or a delete): ``Library.writing`` does it
before releasing the write lock, and a reader that finds them stale does it on demand. Each
build goes to its own ``<data_dir>/bm25/gen-<N>`` folder, renamed into place when complete:
readers never see half an index, and a crash mid-build leaves only a ``.tmp`` folder that the
next build removes. Processes share the folder; each keeps the current generation in memory.

The folder is a cache of what the docstore says: a saved index that can't be read or doesn't
hold the docstore's chunk count is rebuilt, and one that can't be written (a read-only library)
lives in memory only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.catalog import ChunkCatalog, ChunkTable
from rag.keyword import KeywordIndex

CATALOG_FILE = "chunks.json"  # beside bm25s's files: the presence marks a complete build


@dataclass(frozen=True)
class SearchIndexes:
    """The catalogue and the keyword index of one generation of the library."""

    generation: int
    catalog: ChunkCatalog
    keyword: KeywordIndex


_lock = threading.Lock()
_current: dict[Path, SearchIndexes] = {}  # per index root, in this process


def search_indexes(
    root: Path, generation: int, table: Callable[[], ChunkTable], chunk_count: Callable[[], int]
) -> SearchIndexes:
    """The indexes of ``generation``: in memory, loaded from ``root``, or built from ``table``.
    ``chunk_count``: the docstore's, which a loaded index must hold (asked only on a load, not
    on every question)."""
    key = root.resolve()
    with _lock:
        cached = _current.get(key)
        if cached is not None and cached.generation == generation:
            return cached
        indexes = _load(root, generation, chunk_count) or _build(root, generation, table())
        _current[key] = indexes
        return indexes


def forget(root: Path) -> None:
    """Drop the saved and in-memory indexes under ``root``: the next use rebuilds them."""
    with _lock:
        _current.pop(root.resolve(), None)
        for folder in root.glob("gen-*") if root.is_dir() else ():
            shutil.rmtree(folder, ignore_errors=True)


def _folder(root: Path, generation: int) -> Path:
    return root / f"gen-{generation}"


def _build(root: Path, generation: int, table: ChunkTable) -> SearchIndexes:
    indexes = SearchIndexes(
        generation, ChunkCatalog.from_table(table), KeywordIndex.build(table.ids, table.texts)
    )
    with contextlib.suppress(OSError):  # a read-only library: the build lives in memory only
        _save(root, generation, table, indexes)
    return indexes


def _save(root: Path, generation: int, table: ChunkTable, indexes: SearchIndexes) -> None:
    root.mkdir(parents=True, exist_ok=True)
    target = _folder(root, generation)
    if table.ids and not target.exists():
        scratch = root / f"gen-{generation}.tmp-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        indexes.keyword.save(scratch)
        carried = {a: sorted(sources) for a, sources in table.outlet_sources.items()}
        (scratch / CATALOG_FILE).write_text(
            json.dumps({"ids": table.ids, "days": table.days, "sources": table.sources,
                        "article_ids": table.article_ids, "outlet_sources": carried})
        )  # fmt: skip
        try:
            scratch.rename(target)
        except OSError:  # another process finished the same generation first
            shutil.rmtree(scratch, ignore_errors=True)
    for old in root.iterdir():
        if old != target and (old.name.startswith("gen-") and ".tmp-" not in old.name):
            shutil.rmtree(old, ignore_errors=True)


def _load(root: Path, generation: int, chunk_count: Callable[[], int]) -> SearchIndexes | None:
    """The saved indexes of ``generation``; None when missing, unreadable or not of
    ``chunk_count`` chunks (then they are rebuilt: they derive from the docstore)."""
    folder = _folder(root, generation)
    if not (folder / CATALOG_FILE).is_file():
        return None
    try:
        saved = json.loads((folder / CATALOG_FILE).read_text())
        if len(saved["ids"]) != chunk_count():
            raise ValueError("chunk count differs from the docstore's")
        table = ChunkTable(
            ids=saved["ids"], texts=[], days=saved["days"], sources=saved["sources"],
            # An index saved before outlets existed has no such keys: it is rebuilt.
            article_ids=saved["article_ids"],
            outlet_sources={a: set(found) for a, found in saved["outlet_sources"].items()},
        )  # fmt: skip
        keyword = KeywordIndex.load(folder, saved["ids"])
    except Exception:  # any damage to a cache means: build it again (in its place, if writable)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return SearchIndexes(generation, ChunkCatalog.from_table(table), keyword)
