"""The Chroma collection and the docstore's float16 copies of its vectors: opening it,
damage checks, and what repair needs."""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from rag import offline as _offline  # noqa: F401
from rag.store.errors import (
    REPAIR_HINT,
    DamagedLibrary,
    LibraryError,
)
from rag.store.schema import ID_BATCH, UPSERT_BATCH
from rag.types import Article, Chunk, day_number

FLOAT16_BYTES = 2


def vector_blob(vector: Sequence[float]) -> bytes:
    """A vector as ``chunks.vector`` keeps it: float16, 768 bytes for 384 dimensions. Its
    cosines differ from float32's by ~1e-4, far below the gaps that order search results."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def chunk_metadata(article: Article, chunk: Chunk) -> dict[str, Any]:
    """Chroma metadata. Chroma rejects None, so unknown fields are simply absent."""
    meta: dict[str, Any] = {
        "article_id": article.id,
        "version": article.version,
        "title": article.title,
        "chunk_index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
    }
    for key in ("source", "url", "author"):
        value = getattr(article, key)
        if value:
            meta[key] = value
    # 0 = unknown: a "not after as_of" filter keeps undated articles, a date range drops them.
    meta["published_day"] = day_number(article.published_date) if article.published_date else 0
    if article.published_date:
        meta["published_date"] = article.published_date.isoformat()
    return meta


def _forget_chroma_client(path: Path) -> None:
    """Drop Chroma's cached client for ``path``: Chroma keeps one per folder for the process,
    and one that failed to open stays broken ("'RustBindingsAPI' object has no attribute
    'bindings'"), so the empty store that replaces a damaged one could not be opened."""
    from chromadb.api.client import SharedSystemClient

    with contextlib.suppress(Exception):  # a Chroma without this cache: nothing to forget
        system = SharedSystemClient._identifier_to_system.pop(str(path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(path), None)
        if system is not None:
            system.stop()


class VectorsPart:
    """The Chroma collection and the docstore's float16 copies of its vectors: opening it,
    damage checks, and what repair needs.

    A part of ``Library``: the facade owns the connection (``self._query``,
    ``self._transaction``) and the write protocol."""

    # ------------------------------------------------------------------ Chroma
    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    def _open_collection(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.settings.chroma_url:
            parts = urlsplit(self.settings.chroma_url)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise LibraryError(f"chroma_url {self.settings.chroma_url!r} is not an http(s) URL")
            try:
                client = chromadb.HttpClient(
                    host=parts.hostname,
                    port=parts.port or (443 if parts.scheme == "https" else 8000),
                    ssl=parts.scheme == "https",
                    settings=chroma_settings,
                )
                client.heartbeat()
            except Exception as error:
                raise LibraryError(
                    f"Chroma server at {self.settings.chroma_url} is unreachable ({error})"
                ) from None
        try:
            if not self.settings.chroma_url:
                client = chromadb.PersistentClient(
                    path=str(self._chroma_path()), settings=chroma_settings
                )
            # embedding_function=None: we always pass our own vectors. Chroma's default
            # function would download a model the first time anything arrived without one.
            return client.get_or_create_collection(
                self.settings.collection,
                embedding_function=None,
                metadata={"hnsw:space": "cosine"},
            )
        except Exception as error:
            if not self.settings.chroma_url:  # the next try must meet the reason, not a husk
                _forget_chroma_client(self._chroma_path())
            raise DamagedLibrary(
                f"the vectors in {self.vector_store} cannot be opened ({error}); {REPAIR_HINT}"
            ) from None

    def _chroma_path(self) -> Path:
        """Where Chroma opens the vectors: the library's folder, or for a read-only library a
        private copy (Chroma writes to its own database on open), removed on close or exit."""
        if not self.read_only:
            return self.settings.chroma_dir
        if self._chroma_copy is None:
            copy = Path(tempfile.mkdtemp(prefix="newsrag-read-only-"))
            atexit.register(shutil.rmtree, copy, ignore_errors=True)
            if self.settings.chroma_dir.is_dir():
                shutil.copytree(self.settings.chroma_dir, copy / "chroma")
            self._chroma_copy = copy
        return self._chroma_copy / "chroma"

    def journal_size(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM chroma_journal")[0]["n"])

    @property
    def vector_store(self) -> str:
        """Where the vectors live, as a person would look for them."""
        return self.settings.chroma_url or str(self.settings.chroma_dir)

    def damage(self) -> list[str]:
        """Cheap checks (counts, no id lists) that every opener runs; each problem names what
        is wrong and what to run. The keyword index needs none: it rebuilds itself."""
        committed = self.chunk_count()
        try:
            stored = self.collection.count()
        except DamagedLibrary as error:
            return [str(error)]
        except LibraryError:  # a Chroma server that is down: not damage, and not repairable
            raise
        except Exception as error:
            return [f"the vectors in {self.vector_store} cannot be read ({error}); {REPAIR_HINT}"]
        if stored < committed:  # a healthy library has at least one vector per passage
            return [
                f"{committed - stored} of {committed} passages have no vectors in "
                f"{self.vector_store}; {REPAIR_HINT}"
            ]
        return []

    def vector_differences(self) -> tuple[list[str], list[str]]:
        """(committed chunks without a vector, vectors without a committed chunk), by id."""
        committed = [row["id"] for row in self._query("SELECT id FROM chunks ORDER BY id")]
        in_chroma = set(self.collection.get(include=[])["ids"])
        known = set(committed)
        return [i for i in committed if i not in in_chroma], sorted(in_chroma - known)

    def restore_vectors(
        self, ids: Sequence[str], encode: Callable[[list[str]], list[list[float]]]
    ) -> None:
        """Embed committed chunks again from their stored text and put them in Chroma.
        Idempotent (an upsert of what the docstore says), so an interrupted repair resumes."""
        articles: dict[str, Article] = {}
        chunks: list[tuple[Article, Chunk]] = []
        rows = self._query_in(
            "SELECT id, article_id, chunk_index, start, end, embed_text FROM chunks "
            "WHERE id IN ({marks})",
            ids,
        )
        for row in rows:
            article = articles.get(row["article_id"]) or self.get(row["article_id"])
            if article is None:
                continue
            articles[article.id] = article
            chunk = Chunk(
                id=row["id"], article_id=article.id, index=row["chunk_index"],
                start=row["start"], end=row["end"],
                text=article.body[row["start"] : row["end"]], embed_text=row["embed_text"],
            )  # fmt: skip
            chunks.append((article, chunk))
        if not chunks:
            return
        vectors = encode([c.embed_text for _, c in chunks])
        self.collection.upsert(
            ids=[c.id for _, c in chunks],
            embeddings=vectors,
            documents=[c.text for _, c in chunks],
            metadatas=[chunk_metadata(a, c) for a, c in chunks],
        )
        self._store_vectors([c.id for _, c in chunks], vectors)

    # ------------------------------------------------------------------ stored vectors
    def chunk_vectors(self, ids: Sequence[str], dimensions: int) -> dict[str, np.ndarray]:
        """The docstore's copies (float16, unit length) of the vectors of ``ids``, for those
        that have one of ``dimensions`` values: every chunk committed since schema 2. Older
        ones get theirs from ``copy_vectors``, as do copies of another size (a damaged or
        hand-edited row), which are left out here so the caller takes Chroma's. A week's
        1,500-3,800 at 1M chunks take 7-40 ms here, where Chroma behind a server takes
        80-190 ms for the same ids (docs/scale.md)."""
        if not self._stored_vectors:  # a read-only library from before schema 2
            return {}
        size = dimensions * FLOAT16_BYTES
        rows = self._query_in(
            "SELECT id, vector FROM chunks WHERE id IN ({marks}) AND vector IS NOT NULL", ids
        )
        return {
            r["id"]: np.frombuffer(r["vector"], dtype=np.float16)
            for r in rows
            if len(r["vector"]) == size
        }

    def copy_vectors(self) -> int:
        """Give committed chunks without a stored vector, or with one of the wrong size,
        Chroma's (a library from before schema 2; a damaged row). Batch by batch, each
        durable: an interrupted copy carries on. Returns how many were copied."""
        sample = self.collection.get(limit=1, include=["embeddings"])["embeddings"]
        if sample is None or not len(sample):
            return 0
        size = len(sample[0]) * FLOAT16_BYTES
        missing = [
            r["id"]
            for r in self._query(
                "SELECT id FROM chunks WHERE vector IS NULL OR length(vector) != ?", (size,)
            )
        ]
        copied = 0
        for offset in range(0, len(missing), UPSERT_BATCH):
            found = self.collection.get(
                ids=missing[offset : offset + UPSERT_BATCH], include=["embeddings"]
            )
            self._store_vectors(found["ids"], found["embeddings"])
            copied += len(found["ids"])
        return copied

    def _store_vectors(self, ids: Sequence[str], vectors: Sequence[Sequence[float]]) -> None:
        with self._transaction() as db:
            db.executemany(
                "UPDATE chunks SET vector = ? WHERE id = ?",
                [(vector_blob(v), i) for i, v in zip(ids, vectors, strict=True)],
            )

    def drop_vectors(self, ids: Sequence[str]) -> None:
        for offset in range(0, len(ids), ID_BATCH):
            self.collection.delete(ids=list(ids[offset : offset + ID_BATCH]))

    def set_aside_vector_store(self) -> Path | None:
        """Move a local Chroma folder that can't be opened out of the way (kept, renamed, for
        a post-mortem); the next use starts an empty one. None for a Chroma server."""
        if self.settings.chroma_url or not self.settings.chroma_dir.exists():
            return None
        aside = self.data_dir / f"chroma.damaged-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        self.settings.chroma_dir.rename(aside)
        self._collection = None
        _forget_chroma_client(self.settings.chroma_dir)
        return aside

    def check(self) -> list[str]:
        """Disagreements between docstore and Chroma (empty list = consistent)."""
        problems = []
        committed = {row["id"] for row in self._query("SELECT id FROM chunks")}
        in_chroma = set(self.collection.get(include=[])["ids"])
        if missing := committed - in_chroma:
            problems.append(f"{len(missing)} committed chunks missing from Chroma")
        if orphans := in_chroma - committed:
            problems.append(f"{len(orphans)} Chroma vectors with no committed chunk")
        bad_counts = self._query(
            "SELECT a.id FROM articles a LEFT JOIN chunks c ON c.article_id = a.id "
            "GROUP BY a.id HAVING COUNT(c.id) != a.chunk_count"
        )
        if bad_counts:
            problems.append(f"{len(bad_counts)} articles whose chunk count disagrees")
        if self.journal_size():
            problems.append(f"{self.journal_size()} journal entries not yet replayed")
        return problems
