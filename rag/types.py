"""Plain data passed between stages. JSON-able via pydantic."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Article(BaseModel):
    """One cleaned article, as stored in the docstore."""

    id: str
    title: str
    body: str
    source: str | None = None
    url: str | None = None
    author: str | None = None
    published_date: date | None = None  # unknown stays None: never invented
    content_hash: str  # normalised title + body: the same story is stored once
    version: str  # content + metadata: a changed date re-versions the chunks too
    origin: str | None = None  # file path or URL it came from
    origin_key: str | None = None  # record id inside a multi-article file, if any
    ingested_at: str | None = None
    chunk_count: int = 0
    notes: list[str] = Field(default_factory=list)  # e.g. "summary only: linked page unreachable"


class Chunk(BaseModel):
    """A passage of an article body: ``article.body[start:end] == text``."""

    id: str
    article_id: str
    index: int
    start: int
    end: int
    text: str
    embed_text: str  # header (title, date) + text: what the model sees


def day_number(value: date) -> int:
    """Days since 0001-01-01, an integer Chroma can range-filter on."""
    return value.toordinal()
