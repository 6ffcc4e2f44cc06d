"""``.md``: YAML front matter for metadata; otherwise the first ``# heading`` is the title."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ingest.loaders.base import Document, LoadOptions, LoadResult, raw_from_meta, split_front_matter

SUFFIXES = (".md", ".markdown")

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE_MARK = re.compile(r"^\s*>\s?")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")


def markdown_to_text(markdown: str) -> tuple[str | None, str]:
    """Plain text and the first heading; link targets, images and markup dropped."""
    title = None
    lines = []
    for line in markdown.split("\n"):
        heading = _HEADING.match(line)
        if heading:
            if title is None:
                title = heading.group(1)
                continue
            line = heading.group(1)
        if _RULE.match(line):
            continue
        line = _IMAGE.sub("", line)
        line = _LINK.sub(r"\1", line)
        line = _QUOTE_MARK.sub("", _LIST_MARK.sub("", line))
        lines.append(_EMPHASIS.sub(r"\2", line))
    return title, "\n".join(lines)


def load(doc: Document, options: LoadOptions) -> Iterator[LoadResult]:
    meta, markdown = split_front_matter(doc.text())
    heading, body = markdown_to_text(markdown)
    record = raw_from_meta(meta or {}, body, doc)
    record.title = record.title or heading
    yield record
