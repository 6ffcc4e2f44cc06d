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
what derives from the docstore can be rebuilt (``rebuild_vectors``, ``newsrag repair``).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import itertools
import json
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import numpy as np

from rag import offline as _offline  # noqa: F401
from rag.errors import NewsragError
from rag.indexes import keyword_index, rebuild, sync
from rag.keyword import KeywordDocument, KeywordIndex
from rag.lexicon import Weights
from rag.settings import Settings
from rag.subscriptions import SUBSCRIPTION_COLUMNS, Subscriptions
from rag.types import Article, Chunk, Outlet, Passage, day_number

# 2: chunks.vector (a copy of each chunk's vector, for filtered search; see chunk_vectors)
SCHEMA_VERSION = 2
# A writer holds SQLite's lock for one batch's commit (well under a second); a reader or a second
# writer waits this long before "database is locked" (a big ingest commit on a slow disk).
BUSY_TIMEOUT_S = 60
ID_BATCH = 500  # ids per "IN (...)" query: under SQLite's variable limit on older builds (999)
KEYWORD_PAGE = 5000  # chunks read at a time to index: ~8 MB of text
UPSERT_BATCH = 4000  # vectors per Chroma upsert: under its max batch size (5,461)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    source TEXT,
    url TEXT,
    author TEXT,
    published_date TEXT,
    content_hash TEXT NOT NULL,
    version TEXT NOT NULL,
    origin TEXT,
    origin_key TEXT,
    ingested_at TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    notes TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS articles_by_hash ON articles(content_hash);
CREATE INDEX IF NOT EXISTS articles_by_origin ON articles(origin);
CREATE INDEX IF NOT EXISTS articles_by_url ON articles(url);
-- Every question reads the source list and the newest date: without these, each is a scan of
-- all article bodies (30 ms at 6,000 articles).
CREATE INDEX IF NOT EXISTS articles_by_source ON articles(source);
CREATE INDEX IF NOT EXISTS articles_by_date ON articles(published_date);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    embed_text TEXT NOT NULL,
    vector BLOB  -- float16, unit length; NULL in a library from before schema 2
);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS chroma_journal (
    article_id TEXT NOT NULL,
    version TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    PRIMARY KEY (article_id, version)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Thumbs up/down on answers in the chat window: what people found right or wrong, for the eval.
CREATE TABLE IF NOT EXISTS feedback (
    given_at TEXT NOT NULL,
    question TEXT NOT NULL,
    as_of TEXT,
    answerer TEXT NOT NULL,
    answer TEXT NOT NULL,
    short_answer TEXT,
    refused INTEGER NOT NULL,
    cited_article_ids TEXT NOT NULL,
    helpful INTEGER NOT NULL
);
-- Other outlets that carried an article's story (a syndicated wire copy, found at ingest by
-- ingest/dedupe.py): the story is stored once; they are kept for citations and source filters.
CREATE TABLE IF NOT EXISTS outlets (
    article_id TEXT NOT NULL,
    url TEXT NOT NULL,
    source TEXT,
    title TEXT,
    published_date TEXT,
    added_at TEXT NOT NULL,
    PRIMARY KEY (article_id, url)
);
CREATE INDEX IF NOT EXISTS outlets_by_url ON outlets(url);
-- Each article's MinHash of word shingles: how a near-duplicate copy is recognised.
CREATE TABLE IF NOT EXISTS story_signatures (
    article_id TEXT PRIMARY KEY,
    signature BLOB NOT NULL
);
-- Feeds the poller keeps the library current from (rag/subscriptions.py); the HTTP
-- validators and the schedule survive restarts, so a restarted poller is still polite.
CREATE TABLE IF NOT EXISTS subscriptions (
    url TEXT PRIMARY KEY,
    source TEXT,
    every_s INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    last_checked TEXT,
    last_new_item TEXT,
    items_ingested INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_check TEXT,
    etag TEXT,
    last_modified TEXT
);
-- Articles whose keyword-index documents are out of date (rag/indexes.py): queued by the
-- write that changed them, in its transaction; applied (and pruned) by the next sync.
CREATE TABLE IF NOT EXISTS keyword_queue (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ingest_runs (
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    inputs TEXT NOT NULL,
    summary TEXT NOT NULL
);
"""

_ARTICLE_COLUMNS = (
    "id, title, body, source, url, author, published_date, content_hash, version, origin, "
    "origin_key, "
    "ingested_at, chunk_count, notes"
)


def _like_prefix(text: str) -> str:
    """A LIKE pattern (ESCAPE '\\') for strings starting with ``text``: its ``%`` and ``_``
    are characters, not wildcards (``newsrag delete '%2b1e'`` must not match any id)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class LibraryError(NewsragError, RuntimeError):
    """The library cannot be opened or used as configured."""


class ReadOnlyLibrary(LibraryError):
    """A write (ingest, delete, repair) to a library this process can only read."""


class DamagedLibrary(LibraryError):
    """The library's files are damaged or disagree; the message names them and the fix."""


REPAIR_HINT = "run `newsrag repair` to rebuild them from the article texts"
RESTORE_ADVICE = (
    "restore the library folder from a backup, or move it away and ingest the articles again "
    "(the vectors and keyword index are rebuilt from library.sqlite, but nothing rebuilds it)"
)
_TABLES = {"articles", "chunks", "chroma_journal", "meta", "ingest_runs"}
_CHUNK_COLUMNS = "id, article_id, chunk_index, start, end, embed_text, vector"
# Tables added after the first release that every read expects; a read-only library that
# predates them gets empty temporary ones (it can't be given real ones).
_LATER_TABLES = {
    "feedback": "given_at, question, as_of, answerer, answer, short_answer, refused, "
    "cited_article_ids, helpful",
    "outlets": "article_id, url, source, title, published_date, added_at",
    "story_signatures": "article_id, signature",
    "subscriptions": ", ".join(SUBSCRIPTION_COLUMNS),
    "keyword_queue": "position, article_id",
}


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _add_vector_column(db: sqlite3.Connection) -> None:
    """Schema 1 -> 2, in one transaction (SQLite's DDL is transactional): a crash leaves
    either schema, and a second process opening it at the same time waits, then finds it done."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if "vector" not in _columns(db, "chunks"):
            db.execute("ALTER TABLE chunks ADD COLUMN vector BLOB")
            db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


FLOAT16_BYTES = 2


def vector_blob(vector: Sequence[float]) -> bytes:
    """A vector as ``chunks.vector`` keeps it: float16, 768 bytes for 384 dimensions. Its
    cosines differ from float32's by ~1e-4, far below the gaps that order search results."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def _writable(folder: Path, docstore: Path) -> bool:
    """Can this process write the library? (access() also says no on a read-only mount)"""
    if docstore.exists() and not os.access(docstore, os.W_OK):
        return False
    return os.access(folder, os.W_OK) if folder.exists() else True


def chunk_ids(article_id: str, version: str, count: int) -> list[str]:
    return [f"{article_id}-{version[:10]}-{index}" for index in range(count)]


@dataclass
class PendingArticle:
    """An article ready to commit: its chunks and their vectors, and the version it replaces."""

    article: Article
    chunks: list[Chunk]
    vectors: list[list[float]]
    replaces: Article | None = None
    signature: bytes | None = None  # for near-duplicate detection (ingest/dedupe.py)


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


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _mark_changed(db: sqlite3.Connection, article_ids: Iterable[str]) -> None:
    """Inside a write's transaction: the changed articles queued for the keyword index, a new
    generation (open pages refresh) and when the library last changed."""
    db.executemany("INSERT INTO keyword_queue (article_id) VALUES (?)", [(a,) for a in article_ids])
    db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    db.execute("INSERT OR REPLACE INTO meta VALUES ('changed_at', ?)", (_now(),))


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


class Library:
    """One data dir: docstore + Chroma collection. Cheap to open; Chroma connects lazily."""

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

    # ------------------------------------------------------------------ reads
    def article_count(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM articles")[0]["n"])

    def chunk_count(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM chunks")[0]["n"])

    def journal_size(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM chroma_journal")[0]["n"])

    @staticmethod
    def _article(row: sqlite3.Row) -> Article:
        data = dict(row)
        data["notes"] = json.loads(data["notes"])
        return Article(**data)

    def get(self, article_id: str) -> Article | None:
        rows = self._query(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,))
        return self._article(rows[0]) if rows else None

    def resolve(self, key: str) -> Article | None:
        """An article by id, unique id prefix, URL or origin key (record id)."""
        article = self.get(key)
        if article:
            return article
        rows = self._query(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE url = ? OR origin_key = ? "
            "OR id LIKE ? ESCAPE '\\' OR id IN (SELECT article_id FROM outlets WHERE url = ?) "
            "LIMIT 2",
            (key, key, _like_prefix(key), key),
        )
        return self._article(rows[0]) if len(rows) == 1 else None

    def article_versions(self) -> dict[str, str]:
        """Every article's id -> version: what a Ray ingest's workers skip as unchanged."""
        return {
            row["id"]: row["version"] for row in self._query("SELECT id, version FROM articles")
        }

    def find_by_hash(self, content_hash: str) -> Article | None:
        rows = self._query(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE content_hash = ? LIMIT 1",
            (content_hash,),
        )
        return self._article(rows[0]) if rows else None

    def articles(self) -> list[Article]:
        rows = self._query(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles "
            "ORDER BY published_date IS NULL, published_date DESC, title"
        )
        return [self._article(row) for row in rows]

    def articles_published(self, first: date, last: date) -> list[Article]:
        """Articles published from ``first`` to ``last`` (inclusive), oldest first."""
        rows = self._query(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE published_date BETWEEN ? AND ? "
            "ORDER BY published_date, id",
            (first.isoformat(), last.isoformat()),
        )
        return [self._article(row) for row in rows]

    def newest_articles(self, limit: int) -> list[Article]:
        """The ``limit`` most recently published articles; undated ones after the dated."""
        rows = self._query(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles "
            "ORDER BY published_date IS NULL, published_date DESC, title LIMIT ?",
            (limit,),
        )
        return [self._article(row) for row in rows]

    def articles_from(self, origin_prefix: str) -> list[tuple[str, str | None, str | None]]:
        """(id, origin, origin_key) of the articles loaded from files under a folder."""
        rows = self._query(
            "SELECT id, origin, origin_key FROM articles WHERE origin LIKE ? ESCAPE '\\'",
            (_like_prefix(origin_prefix),),
        )
        return [(row["id"], row["origin"], row["origin_key"]) for row in rows]

    def sources(self) -> list[str]:
        """Every source name, the outlets that carried another's story included."""
        rows = self._query(
            "SELECT source FROM articles WHERE source IS NOT NULL UNION "
            "SELECT source FROM outlets WHERE source IS NOT NULL ORDER BY 1"
        )
        return [row["source"] for row in rows]

    # ------------------------------------------------------------------ stories and outlets
    def story_signatures(self) -> list[tuple[str, bytes, date | None]]:
        """Each stored story's MinHash signature and publication date (ingest/dedupe.py)."""
        rows = self._query(
            "SELECT s.article_id, s.signature, a.published_date FROM story_signatures s "
            "JOIN articles a ON a.id = s.article_id"
        )
        return [
            (row["article_id"], row["signature"],
             date.fromisoformat(row["published_date"]) if row["published_date"] else None)
            for row in rows
        ]  # fmt: skip

    def story_carried_at(self, url: str) -> str | None:
        """The id of the article whose story ``url`` carried as another outlet, if any."""
        rows = self._query("SELECT article_id FROM outlets WHERE url = ? LIMIT 1", (url,))
        return rows[0]["article_id"] if rows else None

    def add_outlets(self, carried: Sequence[tuple[str, Outlet]]) -> None:
        """Record that each (article id, outlet) carried that article's story."""
        if not carried:
            return
        with self._transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO outlets VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (article_id, o.url, o.source, o.title,
                     o.published_date.isoformat() if o.published_date else None, _now())
                    for article_id, o in carried
                ],
            )  # fmt: skip
            if db.total_changes == before:
                return
            # Source filters select on outlets too: those articles are indexed again.
            _mark_changed(db, {article_id for article_id, _ in carried})

    def outlets(self, article_ids: Iterable[str]) -> dict[str, list[Outlet]]:
        """The other outlets that carried each article's story (oldest first)."""
        found: dict[str, list[Outlet]] = {}
        rows = self._query_in(
            "SELECT * FROM outlets WHERE article_id IN ({marks}) ORDER BY added_at, url",
            list(dict.fromkeys(article_ids)),
        )
        for row in rows:
            fields = {key: row[key] for key in ("url", "source", "title", "published_date")}
            found.setdefault(row["article_id"], []).append(Outlet(**fields))
        return found

    def newest_published(self, until: date) -> date | None:
        """The latest publication date on or before ``until`` (None: no dated article)."""
        row = self._query(
            "SELECT MAX(published_date) AS newest FROM articles WHERE published_date <= ?",
            (until.isoformat(),),
        )[0]
        return date.fromisoformat(row["newest"]) if row["newest"] else None

    def stored_chunks(self, ids: Iterable[str]) -> dict[str, Passage]:
        """Committed chunks by id, as passages (unscored). Ids Chroma returns but SQLite doesn't
        know are not visible."""
        found: dict[str, Passage] = {}
        rows = self._query_in(
            "SELECT c.id, c.article_id, c.chunk_index, c.start, c.end, a.body, a.title, "
            "a.source, a.url, a.author, a.published_date FROM chunks c "
            "JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})",
            list(dict.fromkeys(ids)),
        )
        for row in rows:
            found[row["id"]] = Passage(
                chunk_id=row["id"],
                article_id=row["article_id"],
                start=row["start"],
                end=row["end"],
                text=row["body"][row["start"] : row["end"]],
                title=row["title"],
                source=row["source"],
                url=row["url"],
                author=row["author"],
                published_date=date.fromisoformat(row["published_date"])
                if row["published_date"]
                else None,
            )
        return found

    def carried_by(self, sources: Sequence[str] | None) -> list[str]:
        """Ids of articles whose story one of ``sources`` carried as another outlet."""
        if not sources:
            return []
        marks = ",".join("?" * len(sources))
        rows = self._query(
            f"SELECT DISTINCT article_id FROM outlets WHERE source IN ({marks}) "
            "ORDER BY article_id",
            list(sources),
        )
        return [row["article_id"] for row in rows]

    # ------------------------------------------------------------------ keyword index
    def keyword_index(self) -> KeywordIndex:
        """BM25 over the committed chunks, and the catalogue filters select from (see
        ``rag.indexes``): brought up to date with the docstore before it is returned."""
        return keyword_index(self)

    def term_weights(self) -> Weights:
        """How rare a (stemmed) term is in the library (idf): what citation support weighs."""
        return self.keyword_index().weights()

    def keyword_queue(self, after: int) -> tuple[list[str], int]:
        """The articles queued for the keyword index after position ``after`` (each once, in
        order), and the last position."""
        rows = self._query(
            "SELECT position, article_id FROM keyword_queue WHERE position > ? ORDER BY position",
            (after,),
        )
        last = max([after, *(row["position"] for row in rows)])
        return list(dict.fromkeys(row["article_id"] for row in rows)), last

    def prune_keyword_queue(self, upto: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM keyword_queue WHERE position <= ?", (upto,))

    def keyword_documents(self, article_ids: list[str] | None) -> Iterator[KeywordDocument]:
        """The keyword-index documents of these articles' committed chunks (None: of every
        article), read a page at a time (a million chunks don't fit in memory at once)."""
        if article_ids is None:
            pages = self._chunk_pages("", [])
        else:
            parts = [article_ids[i : i + ID_BATCH] for i in range(0, len(article_ids), ID_BATCH)]
            pages = itertools.chain.from_iterable(
                self._chunk_pages(f"AND c.article_id IN ({','.join('?' * len(part))})", part)
                for part in parts
            )
        for rows in pages:
            carried = self.outlets(row["article_id"] for row in rows)
            for row in rows:
                own = [row["source"]] if row["source"] else []
                others = [o.source for o in carried.get(row["article_id"], []) if o.source]
                yield KeywordDocument(
                    chunk_id=row["id"],
                    article_id=row["article_id"],
                    text=row["embed_text"],
                    day=day_number(date.fromisoformat(row["published_date"]))
                    if row["published_date"]
                    else 0,
                    sources=tuple(dict.fromkeys(own + others)),
                )

    def _chunk_pages(self, where: str, params: list[str]) -> Iterator[list[sqlite3.Row]]:
        after = ""
        while True:
            rows = self._query(
                "SELECT c.id, c.article_id, c.embed_text, a.published_date, a.source "
                f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id > ? {where} "
                f"ORDER BY c.id LIMIT {KEYWORD_PAGE}",
                [after, *params],
            )
            if not rows:
                return
            yield rows
            after = rows[-1]["id"]

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

    def rebuild_keyword_index(self) -> KeywordIndex:
        return rebuild(self)

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

    def record_feedback(self, answer: dict[str, Any], helpful: bool) -> None:
        """A person's thumbs up (``helpful``) or down on ``answer`` (an Answer as JSON)."""
        cited = sorted({c["article_id"] for c in answer.get("citations", [])})
        with self._transaction() as db:
            db.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(), answer["question"], answer.get("as_of"), answer.get("answerer", ""),
                    answer["text"], answer.get("short_answer"), int(bool(answer.get("refused"))),
                    json.dumps(cited), int(helpful),
                ),
            )  # fmt: skip

    @functools.cached_property
    def subscriptions(self) -> Subscriptions:
        """The feeds this library is kept current from (``newsrag feeds``)."""
        return Subscriptions(self)

    def feedback(self) -> list[dict[str, Any]]:
        """Every thumbs up/down, oldest first (``newsrag feedback`` exports them)."""
        rows = self._query("SELECT * FROM feedback ORDER BY given_at, rowid")
        return [
            {**dict(row), "refused": bool(row["refused"]), "helpful": bool(row["helpful"]),
             "cited_article_ids": json.loads(row["cited_article_ids"])}
            for row in rows
        ]  # fmt: skip

    def log_run(self, started_at: str, inputs: Sequence[str], summary: dict[str, Any]) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO ingest_runs VALUES (?, ?, ?, ?)",
                (started_at, _now(), json.dumps(list(inputs)), json.dumps(summary)),
            )
