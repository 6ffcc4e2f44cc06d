"""What a generated answer may be: 1 to 3 sentences, about 60 words, no sentence twice, no
sentence cut off.

The prompt asks for this, but a small model doesn't always obey: SmolLM2 asked "What happened
at the jazz festival?" repeats its three sentences until the token limit and ends mid-word. The
LLM answerer stops generating once the answer is complete (``complete_enough``: saves the
seconds the repetition would take) and keeps only what the contract allows (``hold_to``)
before the draft is verified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.text import sentence_spans

MAX_SENTENCES = 3  # the prompt's "1 to 3 short sentences"
MAX_WORDS = 60  # "about 60 words": a sentence that would pass it is left out (never cut)
MARKER = re.compile(r"\s*\[\d+\]")
# A finished sentence ends in . ! ? or an ellipsis, maybe inside quotes or brackets, maybe
# followed by its [n] markers (and a period after them, as models often write "... [1].").
FINISHED = re.compile(r"""[.!?…]["'”’)\]]*$""")


@dataclass
class Held:
    """The text the contract allows, and what it left out (kept for ``debug``)."""

    text: str
    left_out: list[str] = field(default_factory=list)


def _sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


def _key(sentence: str) -> str:
    """Sentences that differ only in markers, case, spacing or punctuation are one sentence."""
    return " ".join(re.sub(r"\W+", " ", MARKER.sub("", sentence).casefold()).split())


def finished(sentence: str) -> bool:
    return bool(FINISHED.search(MARKER.sub("", sentence).rstrip()))


def hold_to(text: str, *, cut_off: bool) -> Held:
    """``text`` held to the contract. ``cut_off``: generation stopped at the token limit, so
    an unfinished last sentence is a fragment (one that ended on its own is kept unfinished:
    "The mayor cut the ribbon" is a whole answer without its period)."""
    sentences = _sentences(text.strip())
    held = Held(text="")
    if sentences and not finished(sentences[-1]) and (cut_off or len(sentences) > 1):
        held.left_out.append(sentences.pop())
    kept: list[str] = []
    seen: set[str] = set()
    words = 0
    for sentence in sentences:
        key = _key(sentence)
        count = len(MARKER.sub("", sentence).split())
        over = len(kept) >= MAX_SENTENCES or (kept and words + count > MAX_WORDS)
        if key in seen or not key or over:
            held.left_out.append(sentence)
            continue
        seen.add(key)
        kept.append(sentence)
        words += count
    held.text = " ".join(kept)
    return held


def complete_enough(text: str) -> bool:
    """True once generating more can only add what ``hold_to`` leaves out: a finished sentence
    repeats an earlier one, or the answer has its most sentences or words and the next
    sentence has begun."""
    sentences = _sentences(text)
    done = sentences if sentences and finished(sentences[-1]) else sentences[:-1]
    keys = [_key(s) for s in done]
    if len(set(keys)) < len(keys):
        return True
    started_another = len(sentences) > len(done) or text[-1:].isspace()
    words = sum(len(MARKER.sub("", s).split()) for s in done)
    return started_another and (len(done) >= MAX_SENTENCES or words >= MAX_WORDS)
