"""The docstore's tables, their versions and upgrades, and what every write records in
``meta`` (generation, last change, the keyword queue)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

from rag.subscriptions import SUBSCRIPTION_COLUMNS

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


def _like_prefix(text: str) -> str:
    """A LIKE pattern (ESCAPE '\\') for strings starting with ``text``: its ``%`` and ``_``
    are characters, not wildcards (``newsrag delete '%2b1e'`` must not match any id)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _mark_changed(db: sqlite3.Connection, article_ids: Iterable[str]) -> None:
    """Inside a write's transaction: the changed articles queued for the keyword index, a new
    generation (open pages refresh) and when the library last changed."""
    db.executemany("INSERT INTO keyword_queue (article_id) VALUES (?)", [(a,) for a in article_ids])
    db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    db.execute("INSERT OR REPLACE INTO meta VALUES ('changed_at', ?)", (_now(),))
