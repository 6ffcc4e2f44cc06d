"""What every panel of the chat window shares: the settings, the engine, the library, the
page header, and how a value from the page or an error becomes what a handler needs."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import rag
from rag import Settings
from ui.render import feeds_summary, when

EXAMPLE_QUESTIONS = 3  # chips on the empty chat, from the newest headlines
HEADLINES_PER_EXAMPLE = 4
# One write to the library at a time, whichever panel or API call it comes from.
LIBRARY_WRITE = {"concurrency_id": "library-write", "concurrency_limit": 1}
UNEXPECTED = "Something went wrong on the server while answering; its log has the details."
log = logging.getLogger("newsrag.ui")


class Workspace:
    """What the handlers share: the settings, the engine and the library."""

    def __init__(self, settings: Settings, engine: rag.NewsQueryEngine):
        self.settings = settings
        self.engine = engine
        self.library = engine.library

    def bodies(self, article_ids: list[str]) -> dict[str, str | None]:
        found = {}
        for article_id in article_ids:
            article = self.library.get(article_id)
            found[article_id] = article.body if article else None
        return found

    def sources(self) -> list[str]:
        return self.library.sources()

    def examples(self) -> list[dict[str, str]]:
        """Example questions for the empty chat, from the library's newest headlines."""
        # Not every headline has a subject to ask about: read a few more than are shown.
        newest = self.library.newest_articles(EXAMPLE_QUESTIONS * HEADLINES_PER_EXAMPLE)
        return [{"text": q} for q in rag.suggested_questions(newest, EXAMPLE_QUESTIONS)]

    def stats_line(self) -> str:
        """The page's header: the library's size, dates, freshness and feeds."""
        stats = self.library.stats()
        span = ""
        if stats["oldest"]:
            span = f" · {stats['oldest'][:10]} to {stats['newest'][:10]}"
        counts = count(stats["articles"], "article")
        if stats["sources"]:
            counts += f" · {count(stats['sources'], 'source')}"
        if stats["changed_at"]:  # a live library: is it keeping up?
            span += f" · updated {when(stats['changed_at'])}"
        if feeds := feeds_summary(self.library.subscriptions.all()):
            span += f" · {feeds}"
        return (
            f'<div id="nr-header"><h1>newsrag</h1><span class="tagline">answers from your news '
            f'library, with sources</span><span class="stats">{counts}{span}</span>'
            '<button id="nr-theme" type="button">Dark mode</button></div>'
        )


def plain_words(error: Exception) -> str:
    """What a person is shown for ``error``: our errors name the bad input; anything else is a
    bug, logged here with its traceback and never shown (it may hold paths or internals)."""
    if isinstance(error, rag.NewsragError):
        return str(error)
    log.error("unexpected error while answering", exc_info=error)
    return UNEXPECTED


def as_day(value: Any) -> str | None:
    """A DateTime/Textbox value as YYYY-MM-DD (None when empty); the engine validates it."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value).date().isoformat()
    return str(value).strip()[:10] or None


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
