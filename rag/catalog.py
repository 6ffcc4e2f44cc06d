"""The chunk catalogue: every committed chunk's id, publication day and source.

It is what filters select on: a day range and a source list become a mask over the catalogue,
which keyword search applies as weights and dense search uses to count, keep or fetch the chunks
it admits. It is derived from the docstore (``Library.search_indexes``), never edited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ChunkTable:
    """Every committed chunk as the docstore lists it: what the derived indexes are built from."""

    ids: list[str]
    texts: list[str]  # embed texts (title and date header + passage): what BM25 indexes
    days: list[int]  # published day number, 0 = unknown
    sources: list[str]  # "" = unknown
    article_ids: list[str] = field(default_factory=list)
    # article id -> the sources of other outlets that carried its story (a wire copy)
    outlet_sources: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class ChunkCatalog:
    ids: list[str]
    days: np.ndarray  # day numbers (``rag.types.day_number``), 0 = undated
    sources: np.ndarray  # source names, "" = unknown
    # source -> rows of chunks whose story that source carried too (besides its own)
    carried_rows: dict[str, np.ndarray] = field(default_factory=dict)
    # source -> ids of articles whose story it carried (for a filtered Chroma query)
    carried_articles: dict[str, list[str]] = field(default_factory=dict)
    _positions: dict[str, int] | None = field(default=None, repr=False)  # id -> row, on first use

    @classmethod
    def from_table(cls, table: ChunkTable) -> ChunkCatalog:
        rows: dict[str, list[int]] = {}
        articles: dict[str, list[str]] = {}
        for article_id, sources in table.outlet_sources.items():
            for source in sources:
                articles.setdefault(source, []).append(article_id)
        if table.outlet_sources:
            for row, article_id in enumerate(table.article_ids):
                for source in table.outlet_sources.get(article_id, ()):
                    rows.setdefault(source, []).append(row)
        return cls(
            table.ids,
            np.asarray(table.days, dtype=np.int64),
            np.asarray(table.sources, dtype=object),
            {source: np.asarray(found, dtype=np.int64) for source, found in rows.items()},
            {source: sorted(ids) for source, ids in articles.items()},
        )

    def carried_by(self, sources: list[str] | None) -> list[str]:
        """Ids of articles whose story one of ``sources`` carried as another outlet."""
        return sorted({a for s in sources or () for a in self.carried_articles.get(s, ())})

    def __len__(self) -> int:
        return len(self.ids)

    def mask(
        self, day_range: tuple[int, int] | None, sources: list[str] | None
    ) -> np.ndarray | None:
        """Weights (1 keep, 0 drop) for a publication-day range and a source list; None when
        there is no filter."""
        if day_range is None and not sources:
            return None
        keep = np.ones(len(self.ids), dtype=bool)
        if day_range is not None:
            keep &= (self.days >= day_range[0]) & (self.days <= day_range[1])
        if sources:
            chosen = np.isin(self.sources, sources)
            for source in sources:  # a story counts for every outlet that carried it
                if source in self.carried_rows:
                    chosen[self.carried_rows[source]] = True
            keep &= chosen
        return keep.astype(np.float32)

    def admitted_count(self, mask: np.ndarray | None) -> int:
        return len(self.ids) if mask is None else int(np.count_nonzero(mask))

    def admitted(self, mask: np.ndarray) -> list[str]:
        """The chunk ids a ``mask`` keeps."""
        return [self.ids[i] for i in np.flatnonzero(mask)]

    def keep(self, chunk_ids: list[str], mask: np.ndarray | None) -> list[str]:
        """``chunk_ids`` (in order) that a ``mask`` keeps; ids the catalogue doesn't know are
        dropped (they aren't committed)."""
        if self._positions is None:
            self._positions = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        positions = self._positions
        known = [c for c in chunk_ids if c in positions]
        if mask is None:
            return known
        return [c for c in known if mask[positions[c]]]
