"""The keyword (BM25) index: its queue of changed articles and what it is built from."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import date

from rag.indexes import keyword_index, rebuild
from rag.keyword import KeywordDocument, KeywordIndex
from rag.lexicon import Weights
from rag.store.schema import ID_BATCH, KEYWORD_PAGE
from rag.types import day_number


class KeywordsPart:
    """The keyword (BM25) index: its queue of changed articles and what it is built from.

    A part of ``Library``: the facade owns the connection (``self._query``,
    ``self._transaction``) and the write protocol."""

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

    def rebuild_keyword_index(self) -> KeywordIndex:
        return rebuild(self)
