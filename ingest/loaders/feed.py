"""RSS/Atom feeds (file or URL) via feedparser.

Entries with full content are ingested as they are. Summary-only entries fetch the linked page
when it is reachable; otherwise the summary is ingested and the article notes say so.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree
import feedparser
from defusedxml import DefusedXmlException

from ingest.loaders.base import (
    AlreadyStored,
    Document,
    InputError,
    LoadFailure,
    LoadOptions,
    LoadResult,
    RawArticle,
)
from ingest.loaders.html import extract

SUFFIXES = (".rss", ".atom", ".feed")

# A summary this long is probably the whole story; shorter ones are teasers.
FULL_TEXT_MIN_WORDS = 150


def looks_like_feed(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head


# Real feeds never declare entities; a declaration is an entity-expansion ("billion laughs") or
# external-entity attack, or a feed no reader handles the same way twice.
ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
NEVER_EXPANDED = "entity expansion and external entities are never processed"


def refuse_xml_attacks(data: bytes) -> None:
    """``InputError`` for a feed that declares entities or references external ones.

    defusedxml names the construct when the XML is well formed; a malformed feed (which
    feedparser would read leniently, entities unexpanded) is refused on the declaration alone.
    """
    try:
        defusedxml.ElementTree.fromstring(data)
    except DefusedXmlException as error:
        named = getattr(error, "name", None) or getattr(error, "sysid", None)
        raise InputError(
            f"feed refused: it declares or references XML entities"
            f"{f' ({named!r})' if named else ''}; {NEVER_EXPANDED}"
        ) from None
    except ParseError:
        pass  # malformed: feedparser's lenient parser reads it, after the check below
    if ENTITY_DECLARATION.search(data):
        raise InputError(
            f"feed refused: it declares XML entities (<!ENTITY ...>); {NEVER_EXPANDED}"
        )


def _html_to_text(fragment: str) -> str:
    from ingest.loaders.html import trafilatura

    text = trafilatura.extract(f"<html><body><article>{fragment}</article></body></html>")
    return text or ""


def _published(entry: feedparser.FeedParserDict) -> str | None:
    parsed: time.struct_time | None = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed:
        return datetime(*parsed[:6], tzinfo=UTC).date().isoformat()
    return entry.get("published") or entry.get("updated")


def _updated_at(entry: feedparser.FeedParserDict) -> datetime | None:
    # dict.get: FeedParserDict.get maps a missing "updated" to "published" with a warning
    parsed = dict.get(entry, "updated_parsed") or dict.get(entry, "published_parsed")
    return datetime(*parsed[:6], tzinfo=UTC) if parsed else None


def load(doc: Document, options: LoadOptions) -> Iterator[LoadResult]:
    refuse_xml_attacks(doc.data)
    parsed = feedparser.parse(doc.data)
    if not parsed.version and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no RSS/Atom structure"
        raise InputError(f"not an RSS/Atom feed ({reason})")
    source = parsed.feed.get("title")
    for number, entry in enumerate(parsed.entries, 1):
        location = f"{doc.location}#entry{number}"
        link = entry.get("link")
        content = " ".join(part.get("value", "") for part in entry.get("content", []))
        body = _html_to_text(content) if content else ""
        notes: list[str] = []
        if len(body.split()) < FULL_TEXT_MIN_WORDS:
            if link and options.stored and options.stored(link, _updated_at(entry)):
                yield AlreadyStored(location)
                continue
            summary = _html_to_text(entry.get("summary", "")) or entry.get("summary", "")
            page = _fetch_page(link, options) if link else None
            if page is not None:
                page.title = page.title or entry.get("title")
                page.published = page.published or _published(entry)
                page.source = page.source or source
                page.location, page.origin, page.origin_key = location, doc.origin, link
                yield page
                continue
            body = body if len(body) > len(summary) else summary
            if link:
                notes.append("summary only: the linked page could not be fetched")
        if not body.strip():
            yield LoadFailure(location, "feed entry has neither content nor summary")
            continue
        yield RawArticle(
            title=entry.get("title"),
            body=body,
            location=location,
            origin=doc.origin,
            origin_key=entry.get("id") or link,
            identity=entry.get("id") or link,
            source=source,
            url=link,
            author=entry.get("author"),
            published=_published(entry),
            notes=notes,
        )


def _fetch_page(link: str, options: LoadOptions) -> RawArticle | None:
    if options.fetch is None:
        return None
    try:
        fetched = options.fetch(link)
        return extract(fetched.data, link, fetched.url)
    except InputError:
        return None
