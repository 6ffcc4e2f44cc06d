"""``.jsonl``/``.ndjson``/``.json``: article records, fields found by their usual names.

``field_map`` overrides the lookup, e.g. ``{"body": "maintext", "published": "pub_ts"}``.
A malformed line is reported as ``file:line`` and the other lines go on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ingest.loaders.base import (
    Document,
    InputError,
    LoadFailure,
    LoadOptions,
    LoadResult,
    RawArticle,
    as_text,
    first,
)

SUFFIXES = (".jsonl", ".ndjson", ".json")

FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "_id", "article_id", "guid", "uuid"),
    "title": ("title", "headline", "name"),
    "body": ("body", "text", "content", "article", "maintext", "full_text", "story"),
    "url": ("url", "link", "canonical_url", "href", "source_url"),
    "source": ("source", "publisher", "site_name", "sitename", "outlet", "domain"),
    "author": ("author", "authors", "byline", "creator"),
    "published": (
        "published_date", "published", "date", "pubDate", "publish_date", "datePublished",
        "date_published", "published_at", "created_at", "timestamp",
    ),
}  # fmt: skip


def record_to_raw(record: Any, location: str, doc: Document, options: LoadOptions) -> LoadResult:
    if not isinstance(record, dict):
        return LoadFailure(location, f"expected a JSON object, got {type(record).__name__}")

    def pick(name: str) -> Any:
        if name in options.field_map:
            return record.get(options.field_map[name])
        return first(record, *FIELD_NAMES[name])

    body = pick("body")
    if not isinstance(body, str) or not body.strip():
        wanted = options.field_map.get("body") or "/".join(FIELD_NAMES["body"][:4])
        return LoadFailure(location, f"record has no article body (looked for {wanted})")
    source = pick("source")
    record_id = pick("id")
    return RawArticle(
        title=as_text(pick("title")),
        body=body,
        location=location,
        origin=doc.origin,
        origin_key=str(record_id) if record_id is not None else None,
        identity=f"{doc.origin}#{record_id}" if record_id is not None else None,
        source=as_text(source),
        url=as_text(pick("url")),
        author=as_text(pick("author")),
        published=as_text(pick("published")),
    )


def _json_records(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in ("articles", "items", "data", "results", "records"):
            if isinstance(value.get(key), list):
                return value[key]
        return [value]
    raise InputError(f"expected a JSON object or array, got {type(value).__name__}")


def load(doc: Document, options: LoadOptions) -> Iterator[LoadResult]:
    text = doc.text()
    if not text.strip():
        raise InputError("empty file")
    if doc.location.lower().endswith(".json"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"invalid JSON at line {error.lineno}: {error.msg}") from None
        for number, record in enumerate(_json_records(value), 1):
            yield record_to_raw(record, f"{doc.location}#{number}", doc, options)
        return
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        location = f"{doc.location}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield LoadFailure(location, f"malformed JSON line ({error.msg})")
            continue
        yield record_to_raw(record, location, doc, options)
