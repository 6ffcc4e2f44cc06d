"""What every loader produces: raw article records, or failures that name the input."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml


@dataclass
class RawArticle:
    """An article as found, before cleaning. ``location`` names it in messages (file:line)."""

    title: str | None
    body: str
    location: str
    origin: str | None = None  # file path or URL (what --sync compares)
    origin_key: str | None = None  # record id inside a multi-article file
    # What makes this the "same article" next time when it has no URL: a file path, or
    # file#record-id. None = fall back to the content hash.
    identity: str | None = None
    source: str | None = None
    url: str | None = None
    author: str | None = None
    published: str | date | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class LoadFailure:
    """One input (or one record of it) that could not be read; the rest goes on."""

    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


class InputError(Exception):
    """Raised inside a loader for a whole input that is unusable."""


@dataclass
class AlreadyStored:
    """A feed entry whose article is stored and not updated since: its page is not fetched
    again (a poller would otherwise fetch every linked page of every feed on every check)."""

    location: str


LoadResult = RawArticle | LoadFailure | AlreadyStored


@dataclass
class Document:
    """Bytes of one input, already read within the size limit."""

    location: str  # path or URL, as the user named it
    data: bytes
    origin: str
    url: str | None = None  # the page's URL, for fetched inputs
    content_type: str | None = None

    def text(self) -> str:
        """Strict UTF-8 (a BOM is fine): mojibake never reaches the index."""
        if b"\x00" in self.data[:8192]:
            raise InputError("binary file (NUL bytes), not text")
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InputError(f"invalid UTF-8 at byte {error.start}") from None


Loader = Callable[[Document, "LoadOptions"], Iterator[LoadResult]]


@dataclass
class LoadOptions:
    field_map: dict[str, str] = field(default_factory=dict)  # our name -> the record's key
    fetch: Callable[[str], Document] | None = None  # for feeds whose entries are summaries
    # (entry link, when the entry was last updated or None) -> is its article stored and
    # not older than that? Such entries are not fetched again.
    stored: Callable[[str, datetime | None], bool] | None = None


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def split_front_matter(text: str) -> tuple[dict[str, Any] | None, str]:
    """YAML front matter (``---`` fenced) and the rest. None when there is none."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        raise InputError(f"front matter is not valid YAML ({error.__class__.__name__})") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise InputError("front matter is not a YAML mapping")
    return {str(k).lower(): v for k, v in meta.items()}, text[match.end() :]


def first(meta: dict[str, Any], *names: str) -> Any:
    """The first present, non-empty value among ``names``."""
    for name in names:
        value = meta.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if v)
    if isinstance(value, dict):
        return as_text(first(value, "name", "title", "text"))
    return str(value)


def raw_from_meta(meta: dict[str, Any], body: str, doc: Document, **extra: Any) -> RawArticle:
    """A record from front matter keys, found by their usual names."""
    return RawArticle(
        title=as_text(first(meta, "title", "headline")),
        body=body,
        location=extra.pop("location", doc.location),
        origin=doc.origin,
        source=as_text(first(meta, "source", "publisher", "site_name", "sitename")),
        url=as_text(first(meta, "url", "link", "canonical_url", "canonical")),
        author=as_text(first(meta, "author", "authors", "byline")),
        published=first(meta, "published_date", "published", "date", "pubdate", "publish_date"),
        identity=doc.origin,
        **extra,
    )
