"""Outlets and story signatures: one story carried by several outlets (wire dedupe)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from rag.store.schema import _mark_changed, _now
from rag.types import Outlet


class StoriesPart:
    """Outlets and story signatures: one story carried by several outlets (wire dedupe).

    A part of ``Library``: the facade owns the connection (``self._query``,
    ``self._transaction``) and the write protocol."""

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
