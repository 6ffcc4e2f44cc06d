"""Answer and retrieval metrics. Pure functions, unit-tested with hand-computed values."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

from rag import first_sentence  # noqa: F401  (a metric's building block, re-exported)

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKERS = re.compile(r"\[\d+\]")
_WORDLIKE = re.compile(r"\w")
_PUNCT = str.maketrans(dict.fromkeys(string.punctuation + "“”‘’—–…", " "))
MAX_ANSWER_WORDS = 60
# A short answer may run to max(8, 2 x the gold's words): room for a first name or a unit
# ("Rafael Grossi", "31,000 people"), not for a sentence that happens to hold the answer.
SHORT_ANSWER_MIN_WORDS = 8


def normalize(text: str) -> str:
    """SQuAD-style: lower case, no punctuation, no articles, single spaces; [n] markers out."""
    text = _MARKERS.sub(" ", text).lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def word_count(text: str) -> int:
    """Words a reader sees: whitespace-separated tokens with a letter or digit; [n] markers and
    stray punctuation don't count."""
    return sum(1 for token in _MARKERS.sub(" ", text).split() if _WORDLIKE.search(token))


def contains_answer(answer: str, gold: str, max_words: int | None = MAX_ANSWER_WORDS) -> bool:
    """Gold (normalised) inside the answer (normalised), as whole words; long answers fail."""
    words = normalize(answer).split()
    if not words or (max_words is not None and word_count(answer) > max_words):
        return False
    target = normalize(gold)
    return bool(target) and f" {target} " in f" {' '.join(words)} "


def short_answer_correct(short: str | None, gold: str) -> bool:
    """Gold inside a short answer that is short: at most max(8, 2 x gold) words."""
    if not short:
        return False
    limit = max(SHORT_ANSWER_MIN_WORDS, 2 * word_count(gold))
    return contains_answer(short, gold, max_words=limit)


def token_f1(answer: str, gold: str) -> float:
    predicted, expected = normalize(answer).split(), normalize(gold).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def exact_match(answer: str | None, gold: str) -> bool:
    return answer is not None and normalize(answer) == normalize(gold)


def hit_at_k(ranked: Sequence[str], gold: set[str], k: int) -> bool:
    return any(item in gold for item in _unique(ranked)[:k])


def recall_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    if not gold:
        return 0.0
    return len(set(_unique(ranked)[:k]) & gold) / len(gold)


def mrr_at_k(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    for rank, item in enumerate(_unique(ranked)[:k], 1):
        if item in gold:
            return 1.0 / rank
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(min(rank, len(ordered))) - 1]


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))
