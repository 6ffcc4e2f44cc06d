"""The keyword index: BM25 over the committed chunks, in tantivy, changed in place.

One tantivy document per chunk: its index terms (``rag.lexicon.terms``: stemmed, stopwords
removed, so search, citation support and the reader weigh the same words), its publication day
and every source that carried its story. Filters are tantivy queries, so the index is also the
catalogue a filtered dense search counts and lists chunks from.

Why tantivy (``benchmarks/keyword.py``, docs/scale.md): adding 900 chunks took 125 ms at 55k
chunks and 244 ms at 1M, terms included (a bm25s index is immutable: rebuilt whole, 12.5 s at
55k, 348 s at 1M); a query's p50 is 0.6 ms at 55k and 10.6 ms at 1M (SQLite FTS5, which could
share the docstore's transactions, took 68.5 ms and 1.4 s: it scores every matching row);
segments are memory-mapped files, so serving processes share one copy through the page cache
instead of each holding its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.lexicon import Weights, idf_weights, terms

# The writer's indexing buffer: tantivy's floor is 15 MB per thread; one thread, as the
# writer runs inside an ingest whose CPU goes to embedding.
WRITER_HEAP_BYTES = 64_000_000
# Chunk ids asked about in one tantivy query (``keep``): a term set of this many ids is ~2 ms.
ID_BATCH = 1000


@dataclass(frozen=True)
class KeywordDocument:
    """What the keyword index knows of one committed chunk."""

    chunk_id: str
    article_id: str
    text: str  # the embed text (title and date header + passage): what BM25 indexes
    day: int  # published day number (``rag.types.day_number``), 0 = unknown
    sources: tuple[str, ...] = ()  # its own source and every other outlet that carried it


@dataclass(frozen=True)
class Selection:
    """The chunks a filter (day range, sources) admits, as a tantivy query."""

    query: Any


def _schema() -> Any:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk", stored=True, tokenizer_name="raw")
    builder.add_text_field("article", tokenizer_name="raw", index_option="basic")
    # Pre-split terms; frequencies but no positions: BM25 needs no phrase search.
    builder.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
    builder.add_integer_field("day", indexed=True, fast=True)
    builder.add_text_field("source", tokenizer_name="raw", index_option="basic")
    return builder.build()


class KeywordIndex:
    """A tantivy index of chunks at ``path`` (None: in memory, for a read-only library).
    ``create``: start an empty one there; otherwise the index must exist."""

    def __init__(self, path: Path | None, *, create: bool = False):
        import tantivy

        self.path = path
        self._schema = _schema()
        if path is None or create:
            self._index = tantivy.Index(self._schema, path=str(path) if path else None)
        else:
            self._index = tantivy.Index.open(str(path))
        self._searcher = self._index.searcher()
        self._frequencies: dict[str, int] = {}  # term -> chunks, for this searcher

    # ------------------------------------------------------------------ reading
    def reload(self) -> None:
        """See what other processes (or this one) committed since the last reload."""
        self._index.reload()
        self._searcher = self._index.searcher()
        self._frequencies = {}

    def __len__(self) -> int:
        return self._searcher.num_docs

    def select(
        self, day_range: tuple[int, int] | None, sources: Sequence[str] | None
    ) -> Selection | None:
        """The chunks published within ``day_range`` carried by one of ``sources``; None when
        there is no filter."""
        import tantivy

        parts = []
        if day_range is not None:
            parts.append(
                tantivy.Query.range_query(
                    self._schema, "day", tantivy.FieldType.Integer, day_range[0], day_range[1]
                )
            )
        if sources:
            parts.append(tantivy.Query.term_set_query(self._schema, "source", list(sources)))
        if not parts:
            return None
        query = parts[0] if len(parts) == 1 else _all_of(parts)
        return Selection(query)

    def count(self, selection: Selection | None) -> int:
        if selection is None:
            return len(self)
        return self._searcher.search(selection.query, limit=1, count=True).count  # 0 panics

    def ids(self, selection: Selection, limit: int) -> list[str]:
        """Up to ``limit`` chunk ids ``selection`` admits."""
        return self._chunk_ids(self._searcher.search(selection.query, limit, count=False).hits)

    def keep(self, chunk_ids: Sequence[str], selection: Selection | None) -> list[str]:
        """``chunk_ids`` (in order) that are indexed and ``selection`` admits."""
        import tantivy

        kept: set[str] = set()
        for start in range(0, len(chunk_ids), ID_BATCH):
            batch = list(chunk_ids[start : start + ID_BATCH])
            query = tantivy.Query.term_set_query(self._schema, "chunk", batch)
            if selection is not None:
                query = _all_of([query, selection.query])
            hits = self._searcher.search(query, len(batch), count=False).hits
            kept.update(self._chunk_ids(hits))
        return [chunk_id for chunk_id in chunk_ids if chunk_id in kept]

    def search(
        self, query: str, k: int, selection: Selection | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first, only chunks ``selection`` admits."""
        import tantivy

        wanted = list(dict.fromkeys(terms(query)))
        if not wanted or not len(self):
            return []
        Should = tantivy.Occur.Should
        text = tantivy.Query.boolean_query(
            [(Should, tantivy.Query.term_query(self._schema, "body", t)) for t in wanted]
        )
        if selection is not None:  # the filter admits, it doesn't score
            text = _all_of([text, tantivy.Query.const_score_query(selection.query, 0.0)])
        hits = self._searcher.search(text, k, count=False).hits
        ids = self._chunk_ids(hits)
        return [(chunk_id, float(score)) for chunk_id, (score, _) in zip(ids, hits, strict=True)]

    def document_frequency(self, term: str) -> int:
        """In how many chunks ``term`` (already stemmed) occurs. Counted, not tantivy's
        ``doc_freq``: that one still counts the replaced chunks of an updated article until
        their segment is merged, so a story updated often would look common to itself."""
        searcher, counted = self._searcher, self._frequencies  # one state, even mid-reload
        found = counted.get(term)
        if found is None:
            import tantivy

            query = tantivy.Query.term_query(self._schema, "body", term)
            found = counted[term] = searcher.search(query, limit=1, count=True).count
        return found

    def weights(self) -> Weights:
        """Rarity of a term in the library (idf): what support and answer scoring weigh by."""
        return idf_weights(self.document_frequency, max(len(self), 1))

    def _chunk_ids(self, hits: Iterable[tuple[float, Any]]) -> list[str]:
        return [self._searcher.doc(address)["chunk"][0] for _, address in hits]

    # ------------------------------------------------------------------ writing
    def replace(self, article_ids: Iterable[str], documents: Iterable[KeywordDocument]) -> None:
        """Drop every chunk of ``article_ids`` and index ``documents`` (their current chunks),
        in one tantivy commit: a crash leaves the state before or after, and doing it again
        gives the same index. The caller holds the library's keyword lock (one writer)."""
        import tantivy

        writer = self._index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
        try:
            for article_id in article_ids:
                writer.delete_documents_by_term("article", article_id)
            for doc in documents:
                fields: dict[str, Any] = {
                    "chunk": doc.chunk_id, "article": doc.article_id,
                    "body": " ".join(terms(doc.text)), "day": doc.day,
                }  # fmt: skip
                if doc.sources:
                    fields["source"] = list(doc.sources)
                writer.add_document(tantivy.Document(**fields))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        writer.wait_merging_threads()  # merges finish (and release the writer's lock) here
        self.reload()


def _all_of(queries: list[Any]) -> Any:
    import tantivy

    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])
