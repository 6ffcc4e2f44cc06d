"""``.txt``: the first non-empty line is the headline, unless YAML front matter or a header of
``Key: value`` lines says otherwise (as people write it: "Title: ...", "Date: ...", "Source:
...", then the story)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ingest.loaders.base import (
    Document,
    InputError,
    LoadOptions,
    LoadResult,
    RawArticle,
    raw_from_meta,
    split_front_matter,
)

SUFFIXES = (".txt", ".text")
# Header keys read as metadata (as raw_from_meta knows them); any other "Word: text" line is
# the story (a dateline, a quote, "Update: ...").
HEADER_KEYS = frozenset(
    {"title", "headline", "date", "published", "published_date", "source", "publisher",
     "author", "authors", "byline", "by", "url", "link"}
)  # fmt: skip
_HEADER = re.compile(r"^\s*([A-Za-z_ ]{2,20}?)\s*:\s*(.+?)\s*$")


def split_header(text: str) -> tuple[dict[str, str] | None, str]:
    """Leading ``Key: value`` lines with known keys, and the rest; None when the text does not
    start with one (then the first line is the headline)."""
    meta: dict[str, str] = {}
    lines = text.lstrip("\n").split("\n")
    taken = 0
    for line in lines:
        match = _HEADER.match(line)
        key = match.group(1).strip().lower().replace(" ", "_") if match else ""
        if not match or key not in HEADER_KEYS:
            break
        meta["author" if key == "by" else key] = match.group(2)
        taken += 1
    if not meta:
        return None, text
    return meta, "\n".join(lines[taken:]).strip()


def load(doc: Document, options: LoadOptions) -> Iterator[LoadResult]:
    meta, text = split_front_matter(doc.text())
    if meta is None:
        meta, text = split_header(text)
    if meta is not None:
        yield raw_from_meta(meta, text, doc)
        return
    lines = text.strip().split("\n", 1)
    if not lines[0].strip():
        raise InputError("empty file")
    body = lines[1] if len(lines) > 1 else ""
    yield RawArticle(
        title=lines[0], body=body, location=doc.location, origin=doc.origin, identity=doc.origin
    )
