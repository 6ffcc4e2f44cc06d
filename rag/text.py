"""Sentence spans with character offsets, shared by chunking, answering and citing.

Punkt (nltk) with the English model that llama-index-core bundles, so nothing is downloaded.
Newlines are hard boundaries: news bodies put one paragraph (often one sentence) per line.
A "sentence" that starts in lower case continues the one before it: Punkt ends sentences at
"(pup-ular?) dog breed of 2022", and the half without its subject can't be quoted alone.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_LINE = re.compile(r"[^\n]+")


@lru_cache(maxsize=1)
def _punkt():
    import llama_index.core
    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    bundled = Path(llama_index.core.__file__).parent / "_static" / "nltk_cache"
    if str(bundled) not in nltk.data.path:
        nltk.data.path.append(str(bundled))
    return PunktTokenizer("english")


def load_splitter() -> None:
    """Load the sentence splitter now (an engine does at open: 0.8 s, mostly importing nltk)."""
    _punkt()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; ``text[start:end]`` has no surrounding whitespace."""
    punkt = _punkt()
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        offset = line.start()
        for start, end in punkt.span_tokenize(line.group()):
            piece = text[offset + start : offset + end]
            stripped_left = len(piece) - len(piece.lstrip())
            stripped_right = len(piece) - len(piece.rstrip())
            if not piece.strip():
                continue
            first, last = offset + start + stripped_left, offset + end - stripped_right
            if text[first].islower() and spans and spans[-1][1] >= line.start():
                spans[-1] = (spans[-1][0], last)
            else:
                spans.append((first, last))
    return spans


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (what a reader of an answer reads first)."""
    spans = sentence_spans(text)
    return text[spans[0][0] : spans[0][1]] if spans else text
