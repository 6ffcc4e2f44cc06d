"""``.txt``: the first non-empty line is the headline, unless YAML front matter says otherwise."""

from __future__ import annotations

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


def load(doc: Document, options: LoadOptions) -> Iterator[LoadResult]:
    meta, text = split_front_matter(doc.text())
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
