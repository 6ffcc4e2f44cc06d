"""BM25 keyword search over the committed chunks (bm25s, stemmed, stopwords removed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rag.lexicon import Weights, idf_weights, terms, tokenize


class KeywordIndex:
    """A bm25s index whose document ``i`` is chunk ``ids[i]`` (the catalogue's row order)."""

    def __init__(self, ids: list[str], bm25: Any):
        self.ids = ids
        self.bm25 = bm25  # bm25s.BM25

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> KeywordIndex:
        import bm25s

        bm25 = bm25s.BM25()
        if ids:
            bm25.index(tokenize(texts), show_progress=False)
        return cls(ids, bm25)

    @classmethod
    def load(cls, folder: Path, ids: list[str]) -> KeywordIndex:
        import bm25s

        return cls(ids, bm25s.BM25.load(folder, show_progress=False))

    def save(self, folder: Path) -> None:
        self.bm25.save(folder, show_progress=False)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, score) best first; chunks outside ``mask`` (0 weight) never come back."""
        if not self.ids:
            return []
        vocab = self.bm25.vocab_dict
        tokens = [token for token in terms(query) if token in vocab]
        if not tokens:
            return []
        found, scores = self.bm25.retrieve(
            [tokens], k=min(k, len(self.ids)), show_progress=False, weight_mask=mask
        )
        return [
            (self.ids[int(doc)], float(score))
            for doc, score in zip(found[0], scores[0], strict=True)
            if score > 0
        ]

    def document_frequency(self, term: str) -> int:
        """In how many chunks ``term`` (already stemmed) occurs."""
        column = self.bm25.vocab_dict.get(term) if self.ids else None
        if column is None:
            return 0
        indptr = self.bm25.scores["indptr"]  # CSC: one column a term
        return int(indptr[column + 1] - indptr[column])

    def weights(self) -> Weights:
        """Rarity of a term in the library (idf): what support and answer scoring weigh by."""
        return idf_weights(self.document_frequency, max(len(self.ids), 1))
