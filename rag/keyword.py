"""BM25 over the committed chunks (bm25s), persisted in ``<data_dir>/bm25/``.

bm25s indexes are immutable, so the index is rebuilt from the docstore when the library's
generation has moved on (after an ingest, an update or a delete). Each build goes to its own
``gen-<N>`` folder, renamed into place when complete: readers never see half an index, and a
crash mid-build leaves only a ``.tmp`` folder that the next build removes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.store import Library

TOKEN_PATTERN = r"(?u)\b\w+\b"  # keep one-character tokens: "5", "a" is a stopword anyway


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


_TOKEN = re.compile(TOKEN_PATTERN)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def terms(text: str) -> list[str]:
    """One text's index terms, exactly as ``tokenize`` makes them, without bm25s's per-call
    overhead (it runs for every candidate sentence of every question)."""
    stop = stopwords()
    return _stemmer().stemWords([t for t in _TOKEN.findall(text.lower()) if t not in stop])


def tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        texts,
        stopwords="en",
        stemmer=_stemmer(),
        token_pattern=TOKEN_PATTERN,
        return_ids=False,
        show_progress=False,
    )


@dataclass
class KeywordIndex:
    generation: int
    ids: list[str]
    days: np.ndarray
    sources: np.ndarray
    retriever: object  # bm25s.BM25
    _positions: dict[str, int] | None = None  # chunk id -> row, built on first use

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, score) best first; chunks outside ``mask`` (0 weight) never come back."""
        if not self.ids:
            return []
        vocab = self.retriever.vocab_dict  # type: ignore[attr-defined]
        tokens = [token for token in terms(query) if token in vocab]
        if not tokens:
            return []
        found, scores = self.retriever.retrieve(  # type: ignore[attr-defined]
            [tokens], k=min(k, len(self.ids)), show_progress=False, weight_mask=mask
        )
        return [
            (self.ids[int(doc)], float(score))
            for doc, score in zip(found[0], scores[0], strict=True)
            if score > 0
        ]

    def document_frequency(self, term: str) -> int:
        """In how many chunks ``term`` (already stemmed) occurs."""
        column = self.retriever.vocab_dict.get(term) if self.ids else None  # type: ignore[attr-defined]
        if column is None:
            return 0
        indptr = self.retriever.scores["indptr"]  # type: ignore[attr-defined]  (CSC: one column a term)
        return int(indptr[column + 1] - indptr[column])

    def weights(self):
        """Rarity of a term in the library (idf): what support and answer scoring weigh by."""
        from rag.cite import idf_weights

        return idf_weights(self.document_frequency, max(len(self.ids), 1))

    def keep(self, chunk_ids: list[str], mask: np.ndarray | None) -> list[str]:
        """``chunk_ids`` (in order) that a ``mask`` (see ``mask``) keeps; ids this generation
        doesn't know are dropped (they aren't committed)."""
        if self._positions is None:
            self._positions = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        positions = self._positions
        known = [c for c in chunk_ids if c in positions]
        if mask is None:
            return known
        return [c for c in known if mask[positions[c]]]

    def admitted(self, mask: np.ndarray) -> list[str]:
        """The chunk ids a ``mask`` keeps."""
        return [self.ids[i] for i in np.flatnonzero(mask)]

    def mask(
        self, day_range: tuple[int, int] | None, sources: list[str] | None
    ) -> np.ndarray | None:
        """Weights (1 keep, 0 drop) for a publication-day range and a source list."""
        if day_range is None and not sources:
            return None
        keep = np.ones(len(self.ids), dtype=bool)
        if day_range is not None:
            keep &= (self.days >= day_range[0]) & (self.days <= day_range[1])
        if sources:
            keep &= np.isin(self.sources, sources)
        return keep.astype(np.float32)


_lock = threading.Lock()
_cache: dict[Path, KeywordIndex] = {}


def _folder(library: Library, generation: int) -> Path:
    return library.settings.bm25_dir / f"gen-{generation}"


def build(library: Library) -> KeywordIndex:
    """Index the library as it is now and save it (replacing older generations)."""
    import bm25s

    generation = library.generation
    table = library.chunk_table()
    retriever = bm25s.BM25()
    if table.ids:
        retriever.index(tokenize(table.texts), show_progress=False)
    index = KeywordIndex(
        generation,
        table.ids,
        np.asarray(table.days, dtype=np.int64),
        np.asarray(table.sources, dtype=object),
        retriever,
    )
    root = library.settings.bm25_dir
    root.mkdir(parents=True, exist_ok=True)
    target = _folder(library, generation)
    if table.ids and not target.exists():
        scratch = root / f"gen-{generation}.tmp-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        retriever.save(scratch, show_progress=False)
        (scratch / "chunks.json").write_text(
            json.dumps({"ids": table.ids, "days": table.days, "sources": table.sources})
        )
        try:
            scratch.rename(target)
        except OSError:  # another process finished the same generation first
            shutil.rmtree(scratch, ignore_errors=True)
    for old in root.iterdir():
        if old != target and (old.name.startswith("gen-") and ".tmp-" not in old.name):
            shutil.rmtree(old, ignore_errors=True)
    return index


def _load(library: Library, generation: int) -> KeywordIndex | None:
    import bm25s

    folder = _folder(library, generation)
    if not (folder / "chunks.json").is_file():
        return None
    meta = json.loads((folder / "chunks.json").read_text())
    retriever = bm25s.BM25.load(folder, show_progress=False)
    return KeywordIndex(
        generation,
        meta["ids"],
        np.asarray(meta["days"], dtype=np.int64),
        np.asarray(meta["sources"], dtype=object),
        retriever,
    )


def keyword_index(library: Library) -> KeywordIndex:
    """The index for the library's current generation: cached, loaded, or rebuilt."""
    generation = library.generation
    key = library.settings.bm25_dir.resolve()
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.generation == generation:
            return cached
        index = _load(library, generation) or build(library)
        _cache[key] = index
        return index


def refresh(library: Library) -> None:
    """Bring the saved index up to date (ingest and delete call this)."""
    keyword_index(library)
