"""Words as search and citation checking see them: terms, stopwords and rarity (idf).

One definition for the keyword index (what BM25 indexes), citation support (which words a
statement and a sentence share) and the extractive answerer (how much a word is worth).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache

TOKEN_PATTERN = r"(?u)\b\w+\b"  # keep one-character tokens: "5", "a" is a stopword anyway
_TOKEN = re.compile(TOKEN_PATTERN)

Weights = Callable[[str], float]  # a (stemmed) term -> how much it counts


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def terms(text: str) -> list[str]:
    """One text's index terms, exactly as ``tokenize`` makes them, without bm25s's per-call
    overhead (it runs for every candidate sentence of every question)."""
    stop = stopwords()
    return _stemmer().stemWords([t for t in _TOKEN.findall(text.lower()) if t not in stop])


def tokenize_terms(texts: list[str]) -> list[list[str]]:
    """Many texts' terms, through bm25s (the keyword index is built from these)."""
    import bm25s

    return bm25s.tokenize(
        texts,
        stopwords="en",
        stemmer=_stemmer(),
        token_pattern=TOKEN_PATTERN,
        return_ids=False,
        show_progress=False,
    )


def idf_weights(document_frequency: Callable[[str], int], documents: int) -> Weights:
    """Rare words weigh more: "Grossi" matters, "said" hardly does."""

    def weight(term: str) -> float:
        df = document_frequency(term)
        return math.log(1 + (documents - df + 0.5) / (df + 0.5))

    return weight
