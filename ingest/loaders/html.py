"""``.html``/``.htm`` and fetched article pages: main text and metadata via trafilatura."""

from __future__ import annotations

from collections.abc import Iterator

import trafilatura

from ingest.loaders.base import Document, InputError, LoadOptions, LoadResult, RawArticle

SUFFIXES = (".html", ".htm", ".xhtml")

# Only dates the page states as metadata; htmldate's extensive search guesses from the text,
# and an unknown date must stay unknown rather than be invented.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}


def extract(data: bytes | str, location: str, url: str | None = None) -> RawArticle:
    if isinstance(data, bytes) and b"\x00" in data[:8192]:
        raise InputError("binary file (NUL bytes), not HTML")
    page = trafilatura.bare_extraction(
        data,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        date_extraction_params=_DATE_PARAMS,
    )
    if page is None or not (page.text or "").strip():
        raise InputError("no article text found in the HTML")
    title = page.title
    body = page.text
    first_line, _, rest = body.partition("\n")
    if title and first_line.strip() == title.strip():  # trafilatura repeats the <h1>
        body = rest
    return RawArticle(
        title=title,
        body=body,
        location=location,
        source=page.sitename or page.hostname,
        url=page.url or url,
        author=page.author,
        published=page.date,
    )


def load(doc: Document, options: LoadOptions) -> Iterator[LoadResult]:
    record = extract(doc.data, doc.location, doc.url)
    record.origin = record.identity = doc.origin
    yield record
