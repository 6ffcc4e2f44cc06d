"""Articles and their committed chunks: reading them by id, prefix, URL, date or source."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from rag.store.schema import _ARTICLE_COLUMNS, _like_prefix
from rag.types import Article, Chunk, Passage


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


class ArticlesPart:
    """Articles and their committed chunks, read by id, prefix, URL, date or source.

    A part of ``Library``: the facade owns the connection (``self._query``,
    ``self._transaction``) and the write protocol."""

    # ------------------------------------------------------------------ reads
    def article_count(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM articles")[0]["n"])

    def chunk_count(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM chunks")[0]["n"])

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
