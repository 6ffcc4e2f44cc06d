"""Syndicated copies of one story, found at ingest: MinHash over word shingles (datasketch).

The same wire story (AP, Reuters, AFP) is republished by many outlets with small edits: another
headline, a byline or dateline line, boilerplate at the end, a paragraph cut or added. Stored
as separate articles, the copies crowd one question's top passages with one story. So a new
article whose body is a near-copy of a stored one is not stored again: the stored story gets
the new outlet (its source and URL) instead (``Library.add_outlets``), which citations show
and source filters match.

Bodies are compared as sets of word shingles; MinHash estimates their Jaccard similarity and
an LSH index finds the candidates without comparing against every stored story. The numbers
below were chosen on a labelled set built from the train corpus and checked on one built from
the distractor corpus (``benchmarks/dedupe.py``: copies with realistic edits against real
different stories on the same topic).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

SHINGLE_WORDS = (
    3  # word 3-grams: a one-word edit touches 3 shingles; the topic's words alone match little
)
NUM_PERM = 128  # MinHash size: Jaccard estimated within about +-0.04 (1 / sqrt(128) / 2)
# Fixed, with the hashing scheme: signatures stored in the library must stay comparable.
SEED = 1
SCHEME = "affine32"
# Estimated Jaccard of the shingle sets at or above which a text is a copy of a stored story:
# the lowest with precision >= 0.995 on the train-built set (benchmarks/dedupe.py; figures in
# docs/feeds.md). At 0.5, follow-ups that reuse paragraphs merged ("Royal Mail warns of job
# cuts" into the day-before "postal workers begin strikes"): a merge loses the new facts.
COPY_THRESHOLD = 0.75
# Copies of a wire story run within days of each other; a text that reuses an old story's
# paragraphs weeks later (a follow-up, a newsletter's next edition) is a new story. Measured:
# without this, "5 things to know for March 14" merged into the July 11 edition (J = 0.48).
COPY_MAX_DAYS = 3
# Texts shorter than this are never merged: two short briefs share too few shingles to tell a
# copy from two items in the same house style.
MIN_WORDS = 60
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def signature(text: str) -> LeanMinHash | None:
    """The MinHash of ``text``'s word shingles; None for a text too short to compare."""
    tokens = words(text)
    if len(tokens) < MIN_WORDS:
        return None
    grams = {
        " ".join(tokens[i : i + SHINGLE_WORDS]).encode()
        for i in range(len(tokens) - SHINGLE_WORDS + 1)
    }
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    minhash.update_batch(list(grams))
    return LeanMinHash(minhash)


def to_bytes(minhash: LeanMinHash) -> bytes:
    return np.asarray(minhash.hashvalues, dtype="<u8").tobytes()


def from_bytes(data: bytes) -> LeanMinHash:
    return LeanMinHash(seed=SEED, hashvalues=np.frombuffer(data, dtype="<u8"), scheme=SCHEME)


class StoryIndex:
    """The stored stories' signatures, and which one a new text copies."""

    def __init__(
        self,
        stored: Iterable[tuple[str, bytes, date | None]],
        threshold: float = COPY_THRESHOLD,
    ):
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._signatures: dict[str, LeanMinHash] = {}
        self._published: dict[str, date | None] = {}
        for article_id, data, published in stored:
            self.add(article_id, from_bytes(data), published)

    def add(self, article_id: str, minhash: LeanMinHash, published: date | None) -> None:
        if article_id in self._signatures:  # an updated story: its new text counts
            self._lsh.remove(article_id)
        self._lsh.insert(article_id, minhash)
        self._signatures[article_id] = minhash
        self._published[article_id] = published

    def copy_of(
        self, minhash: LeanMinHash, published: date | None, other_than: str | None = None
    ) -> str | None:
        """The stored story ``minhash`` (a text published on ``published``) is a copy of: the
        most similar at or above the threshold, published within COPY_MAX_DAYS (or undated)."""
        best, best_similarity = None, self.threshold
        for candidate in self._lsh.query(minhash):
            if candidate == other_than or not _close(published, self._published[candidate]):
                continue
            similarity = minhash.jaccard(self._signatures[candidate])
            if similarity >= best_similarity:
                best, best_similarity = candidate, similarity
        return best


def _close(a: date | None, b: date | None) -> bool:
    return a is None or b is None or abs((a - b).days) <= COPY_MAX_DAYS
