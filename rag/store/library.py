"""The library: a SQLite docstore (articles, committed chunks, journal) beside a Chroma collection.

SQLite is the source of truth for what is visible. Chroma holds vectors for committed chunks,
and briefly for chunk sets that are being written or dropped. Every Chroma write is bracketed by
a journal row in SQLite, so a crash (SIGKILL, Ctrl-C, power) at any point leaves:

- the old version of each article fully visible, or the new one, never a mix;
- at most some Chroma vectors that the journal lists, which the next open drops.

Write order for a batch (see ``commit``):
  1. journal += (article, new hash)             -- "drop these if we die"
  2. Chroma upsert of the new chunks
  3. one SQLite transaction: article row, its chunk rows, journal -= new, journal += old
  4. Chroma delete of the old chunks, journal -= old

A library the process can't write (a read-only mount, another user's files) opens for reading:
SQLite read-only, Chroma from a private copy (it writes on open), search indexes in memory;
writes raise ``ReadOnlyLibrary``. Damage is named (``DamagedLibrary``, ``Library.damage``) and
what derives from the docstore can be rebuilt (``rebuild_vectors``, ``newsrag repair``)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rag import offline as _offline  # noqa: F401
from rag.indexes import sync
from rag.settings import Settings
from rag.store.activity import ActivityPart
from rag.store.articles import ArticlesPart, PendingArticle, chunk_ids
from rag.store.errors import (
    RESTORE_ADVICE,
    DamagedLibrary,
    LibraryError,
    ReadOnlyLibrary,
)
from rag.store.keywords import KeywordsPart
from rag.store.schema import (
    _ARTICLE_COLUMNS,
    _CHUNK_COLUMNS,
    _LATER_TABLES,
    _SCHEMA,
    _TABLES,
    BUSY_TIMEOUT_S,
    ID_BATCH,
    SCHEMA_VERSION,
    UPSERT_BATCH,
    _add_vector_column,
    _columns,
    _mark_changed,
    _now,
)
from rag.store.stories import StoriesPart
from rag.store.vectors import VectorsPart, chunk_metadata, vector_blob


def _writable(folder: Path, docstore: Path) -> bool:
    """Can this process write the library? (access() also says no on a read-only mount)"""
    if docstore.exists() and not os.access(docstore, os.W_OK):
        return False
    return os.access(folder, os.W_OK) if folder.exists() else True


def _refuse_orphaned_indexes(data_dir: Path, docstore: Path) -> None:
    """A folder with another library's vectors or keyword index but no docstore is that
    library with its docstore lost, not a new library: starting one there would mix the two,
    and a repair would drop the vectors (#26: 233 of them, and the window seeded the sample
    into it). Nothing is dropped unless the person moves the folders aside."""
    left = [
        folder.name
        for folder in (data_dir / "chroma", data_dir / "keyword")
        if folder.is_dir() and any(folder.iterdir())
    ]
    if left:
        raise DamagedLibrary(
            f"{data_dir} holds another library's {' and '.join(left)} but no {docstore.name}: "
            f"restore {docstore.name} from a backup; or, to start a new library there, move "
            f"{' and '.join(f'{name}/' for name in left)} aside (nothing is deleted for you)"
        )


class Library(ArticlesPart, VectorsPart, StoriesPart, KeywordsPart, ActivityPart):
    """One data dir: docstore + Chroma collection. Cheap to open; Chroma connects lazily.

    This facade holds the connection, transactions and the commit/delete protocol; each
    concern's reads and writes are a part it is built from (rag/store/*.py)."""

    def __init__(self, settings: Settings, *, create: bool = True):
        self.settings = settings
        self.data_dir = settings.data_dir
        path = settings.docstore_path
        if not path.is_file():
            _refuse_orphaned_indexes(self.data_dir, path)
        if not create and not path.is_file():
            raise LibraryError(f"no library at {self.data_dir} (run `newsrag ingest` first)")
        if path.is_file() and path.stat().st_size == 0:
            raise DamagedLibrary(f"{path} is empty (0 bytes), not a library; {RESTORE_ADVICE}")
        self.read_only = not _writable(self.data_dir, path)
        if create and not self.read_only:
            try:
                self.data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise LibraryError(f"cannot create {self.data_dir}: {error.strerror}") from None
        if create and self.read_only and not path.is_file():
            raise ReadOnlyLibrary(f"cannot create a library in {self.data_dir}: read-only")
        self._db_lock = threading.RLock()
        self._collection: Any = None
        self._chroma_copy: Path | None = None
        try:
            with self._damage_named():
                self._db = self._connect(path)
                self._check_schema()
                self._stored_vectors = "vector" in _columns(self._db, "chunks")
        except sqlite3.OperationalError as error:
            raise LibraryError(f"cannot open {path}: {error}") from None
        if self.journal_size() and not self.read_only:
            with self.writing(), contextlib.suppress(DamagedLibrary):
                # An unreadable vector store can't take the replay: the journal waits for
                # `newsrag repair`, which sets the store aside first (any use of the vectors
                # meanwhile says to run it).
                self.recover()

    def _connect(self, path: Path) -> sqlite3.Connection:
        options: dict[str, Any] = {
            "check_same_thread": False, "isolation_level": None, "timeout": BUSY_TIMEOUT_S,
        }  # fmt: skip
        if self.read_only:
            # immutable: a WAL library closed cleanly has no -shm file, and a read-only
            # folder can't get one; nothing can change files nobody may write.
            uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
            db = sqlite3.connect(uri, uri=True, **options)
        else:
            db = sqlite3.connect(path, **options)
        db.row_factory = sqlite3.Row
        if self.read_only:  # a library from before these tables: read as having none
            present = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            for table, columns in _LATER_TABLES.items():
                if table not in present:
                    db.execute(f"CREATE TEMP TABLE {table} ({columns})")
        else:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(_SCHEMA)
            if "vector" not in _columns(db, "chunks"):
                _add_vector_column(db)
        return db

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        with self._db_lock:
            self._db.close()
        if self._chroma_copy is not None:
            shutil.rmtree(self._chroma_copy, ignore_errors=True)
            self._chroma_copy = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._refuse_if_read_only()
        with self._db_lock, self._damage_named():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Exclusive across processes: two writers never interleave their journals.

        A block that changed the library brings the keyword index up to date before the lock
        is released, so no caller has to remember to, and the next question doesn't wait. A
        block that fails (or is interrupted) leaves its queued changes to the next sync.
        """
        self._refuse_if_read_only()
        lock_path = self.data_dir / ".write.lock"
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                before = self.generation
                yield
                if self.generation != before:
                    sync(self)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise ReadOnlyLibrary(
                f"the library at {self.data_dir} is read-only for this process: it can be "
                "read (ask, list, show, stats) but not changed"
            )

    @contextlib.contextmanager
    def _damage_named(self) -> Iterator[None]:
        """A damaged docstore is named the same whether found on open or mid-use (a
        truncated file reads fine until the missing page)."""
        try:
            yield
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError as error:
            raise DamagedLibrary(
                f"{self.settings.docstore_path} is damaged ({error}); {RESTORE_ADVICE}"
            ) from None

    def _query_in(self, sql: str, ids: Sequence[str]) -> Iterator[sqlite3.Row]:
        """The rows of ``sql`` for every id of ``ids``, its ``{marks}`` filled with one "?" per
        id, ``ID_BATCH`` ids a query."""
        for offset in range(0, len(ids), ID_BATCH):
            batch = list(ids[offset : offset + ID_BATCH])
            yield from self._query(sql.format(marks=",".join("?" * len(batch))), batch)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._db_lock, self._damage_named():
            return self._db.execute(sql, params).fetchall()

    def _meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def _tables(self) -> set[str]:
        return {row["name"] for row in self._query("SELECT name FROM sqlite_master")}

    def _check_schema(self) -> None:
        if missing := _TABLES - self._tables():
            raise DamagedLibrary(
                f"{self.settings.docstore_path} is not a newsrag library (no "
                f"{', '.join(sorted(missing))} table); {RESTORE_ADVICE}"
            )
        version = self._meta("schema_version")
        if version is None and not self.read_only:
            with self._transaction() as db:
                db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
        elif version is not None and int(version) > SCHEMA_VERSION:
            raise LibraryError(f"{self.data_dir} was written by a newer newsrag (schema {version})")

    @property
    def generation(self) -> int:
        """Bumped by every commit; derived indexes (BM25) record the generation they saw."""
        return int(self._meta("generation") or 0)

    def check_embedding(self, model_name: str) -> None:
        """A library's vectors only make sense with the model that made them."""
        recorded = self._meta("embed_model")
        if self.read_only:
            if recorded not in (None, model_name) and self.article_count():
                raise LibraryError(
                    f"{self.data_dir} was embedded with {recorded!r}, not {model_name!r}"
                )
            return
        if recorded is None or not self.article_count():
            with self._transaction() as db:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('embed_model', ?)", (model_name,))
        elif recorded != model_name and self.article_count():
            raise LibraryError(
                f"{self.data_dir} was embedded with {recorded!r}, not {model_name!r}; "
                "use another --data-dir for another model"
            )

    def stats(self) -> dict[str, Any]:
        row = self._query(
            "SELECT COUNT(*) AS articles, COALESCE(SUM(chunk_count), 0) AS chunks, "
            "COUNT(DISTINCT source) AS sources, MIN(published_date) AS oldest, "
            "MAX(published_date) AS newest, SUM(published_date IS NULL) AS undated "
            "FROM articles"
        )[0]
        return {
            "data_dir": str(self.data_dir),
            "chroma": self.settings.chroma_url or str(self.settings.chroma_dir),
            "collection": self.settings.collection,
            "articles": row["articles"],
            "chunks": row["chunks"],
            "sources": row["sources"],
            "oldest": row["oldest"],
            "newest": row["newest"],
            "undated": row["undated"] or 0,
            "embed_model": self._meta("embed_model"),
            "generation": self.generation,
            "changed_at": self._meta("changed_at"),  # the last commit or delete (UTC)
        }

    # ------------------------------------------------------------------ writes
    def recover(self) -> int:
        """Drop every chunk set the journal lists (left by a crash). Idempotent."""
        rows = self._query("SELECT article_id, version, chunk_count FROM chroma_journal")
        for row in rows:
            self._drop_chunks(row["article_id"], row["version"], row["chunk_count"])
        return len(rows)

    def _drop_chunks(self, article_id: str, version: str, count: int) -> None:
        if count:
            self.collection.delete(ids=chunk_ids(article_id, version, count))
        with self._transaction() as db:
            db.execute(
                "DELETE FROM chroma_journal WHERE article_id = ? AND version = ?",
                (article_id, version),
            )

    def commit(self, batch: Sequence[PendingArticle]) -> None:
        """Make a batch of new or changed articles visible, atomically per article."""
        if not batch:
            return
        with self._transaction() as db:  # 1. journal the new chunk sets
            db.executemany(
                "INSERT OR REPLACE INTO chroma_journal VALUES (?, ?, ?)",
                [(p.article.id, p.article.version, len(p.chunks)) for p in batch],
            )
        chunks = [
            (p.article, c, v) for p in batch for c, v in zip(p.chunks, p.vectors, strict=True)
        ]
        # 2. vectors in, in pieces Chroma accepts (5,461 records per call here)
        for start in range(0, len(chunks), UPSERT_BATCH):
            piece = chunks[start : start + UPSERT_BATCH]
            self.collection.upsert(
                ids=[c.id for _, c, _ in piece],
                embeddings=[v for _, _, v in piece],
                documents=[c.text for _, c, _ in piece],
                metadatas=[chunk_metadata(a, c) for a, c, _ in piece],
            )
        now = _now()
        with self._transaction() as db:  # 3. the switch
            for pending in batch:
                article = pending.article
                db.execute("DELETE FROM chunks WHERE article_id = ?", (article.id,))
                db.execute(
                    f"INSERT OR REPLACE INTO articles ({_ARTICLE_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        article.id, article.title, article.body, article.source, article.url,
                        article.author,
                        article.published_date.isoformat() if article.published_date else None,
                        article.content_hash, article.version, article.origin,
                        article.origin_key, now, len(pending.chunks), json.dumps(article.notes),
                    ),
                )  # fmt: skip
                db.executemany(
                    f"INSERT INTO chunks ({_CHUNK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (c.id, c.article_id, c.index, c.start, c.end, c.embed_text,
                         vector_blob(v))
                        for c, v in zip(pending.chunks, pending.vectors, strict=True)
                    ],
                )  # fmt: skip
                db.execute(
                    "DELETE FROM chroma_journal WHERE article_id = ? AND version = ?",
                    (article.id, article.version),
                )
                if pending.signature is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO story_signatures VALUES (?, ?)",
                        (article.id, pending.signature),
                    )
                if article.url:  # was it an outlet of another story? now it is its own
                    db.execute(
                        "DELETE FROM outlets WHERE url = ? AND article_id != ?",
                        (article.url, article.id),
                    )
                old = pending.replaces
                if old and old.version != article.version:
                    db.execute(
                        "INSERT OR REPLACE INTO chroma_journal VALUES (?, ?, ?)",
                        (old.id, old.version, old.chunk_count),
                    )
            _mark_changed(db, [p.article.id for p in batch])
        self.recover()  # 4. old vectors out

    def delete(self, article_ids: Iterable[str]) -> list[str]:
        """Remove articles (and their vectors). Returns the ids that existed."""
        removed = []
        with self._transaction() as db:
            for article_id in article_ids:
                row = db.execute(
                    "SELECT version, chunk_count FROM articles WHERE id = ?", (article_id,)
                ).fetchone()
                if row is None:
                    continue
                db.execute(
                    "INSERT OR REPLACE INTO chroma_journal VALUES (?, ?, ?)",
                    (article_id, row["version"], row["chunk_count"]),
                )
                db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
                db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
                db.execute("DELETE FROM outlets WHERE article_id = ?", (article_id,))
                db.execute("DELETE FROM story_signatures WHERE article_id = ?", (article_id,))
                removed.append(article_id)
            if removed:
                _mark_changed(db, removed)
        self.recover()
        return removed
