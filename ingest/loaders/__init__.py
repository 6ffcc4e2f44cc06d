"""One module per input format; a format is added by adding a module to ``FORMATS``."""

from __future__ import annotations

from pathlib import PurePath

from ingest.loaders import feed, html, jsonl, markdown, text
from ingest.loaders.base import (
    AlreadyStored,
    Document,
    InputError,
    Loader,
    LoadFailure,
    LoadOptions,
    LoadResult,
    RawArticle,
)

FORMATS = (text, markdown, html, jsonl, feed)
LOADERS: dict[str, Loader] = {
    suffix: module.load for module in FORMATS for suffix in module.SUFFIXES
}
# .xml is ambiguous: only a feed is accepted, anything else is reported as "not a feed".
LOADERS[".xml"] = feed.load
SUPPORTED_SUFFIXES = tuple(sorted(LOADERS))


def loader_for(doc: Document) -> Loader:
    """By suffix for files; by content type and a sniff for fetched pages."""
    if doc.url is None:
        suffix = PurePath(doc.location).suffix.lower()
        if suffix not in LOADERS:
            raise InputError(f"unsupported file type {suffix or '(none)'!r}")
        return LOADERS[suffix]
    content_type = (doc.content_type or "").lower()
    if any(kind in content_type for kind in ("rss", "atom", "xml")) or feed.looks_like_feed(
        doc.data
    ):
        return feed.load
    if "json" in content_type:
        return jsonl.load
    return html.load


__all__ = [
    "LOADERS",
    "SUPPORTED_SUFFIXES",
    "AlreadyStored",
    "Document",
    "InputError",
    "LoadFailure",
    "LoadOptions",
    "LoadResult",
    "RawArticle",
    "loader_for",
]
