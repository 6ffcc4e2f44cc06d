"""Feed subscriptions, stored in the library (``library.subscriptions``).

A subscription is a feed URL the poller (``newsrag watch``, ingest/watch.py) checks every
``every_s`` seconds, with what a polite poller must remember between runs: the HTTP validators
(ETag, Last-Modified) for conditional GETs, the consecutive failures its backoff grows with,
and the earliest time it may ask again (backoff or the server's Retry-After). The table sits
in ``library.sqlite`` beside the articles, so one folder is one library and a copy of it takes
its feeds along.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Protocol

from rag.errors import NewsragError


class _Docstore(Protocol):
    """What this needs of rag.store.Library (which builds it: no import back)."""

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]: ...
    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...


class SubscriptionError(NewsragError, ValueError):
    """A subscription that can't be added or found; the message names the URL."""


@dataclass
class Subscription:
    url: str
    source: str | None  # overrides the feed's own title as the articles' source
    every_s: int
    added_at: str
    last_checked: str | None = None
    last_new_item: str | None = None  # when a check last added or updated an article
    items_ingested: int = 0  # articles added or updated, over all checks
    last_error: str | None = None  # of the last check; None when it went well
    failures: int = 0  # consecutive failed checks (the backoff's exponent)
    next_check: str | None = None  # not before this (ISO, UTC); None: at once
    etag: str | None = None
    last_modified: str | None = None

    @property
    def health(self) -> str:
        """'ok', 'not checked yet', or 'failing (3x): HTTP 500 ...'."""
        if self.last_error:
            return f"failing ({self.failures}x): {self.last_error}"
        return "ok" if self.last_checked else "not checked yet"

    @property
    def every_text(self) -> str:
        """The interval as a person writes it: 15m, 2h, 1d, 90s."""
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if self.every_s % size == 0:
                return f"{self.every_s // size}{unit}"
        return f"{self.every_s}s"

    def to_dict(self) -> dict[str, Any]:
        """What ``feeds list --json`` prints (not the HTTP validators)."""
        hidden = {"etag", "last_modified"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in hidden}


SUBSCRIPTION_COLUMNS = [f.name for f in fields(Subscription)]
_SELECTED = ", ".join(SUBSCRIPTION_COLUMNS)


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class Subscriptions:
    """The library's subscriptions table."""

    def __init__(self, library: _Docstore):
        self.library = library

    def all(self) -> list[Subscription]:
        rows = self.library._query(f"SELECT {_SELECTED} FROM subscriptions ORDER BY url")
        return [Subscription(**dict(row)) for row in rows]

    def get(self, url: str) -> Subscription | None:
        rows = self.library._query(f"SELECT {_SELECTED} FROM subscriptions WHERE url = ?", (url,))
        return Subscription(**dict(rows[0])) if rows else None

    def require(self, url: str) -> Subscription:
        found = self.get(url)
        if found is None:
            raise SubscriptionError(f"not subscribed to {url} (`newsrag feeds list` shows them)")
        return found

    def add(self, url: str, every_s: int, source: str | None = None) -> Subscription:
        subscription = Subscription(url=url, source=source, every_s=every_s, added_at=now_iso())
        with self.library._transaction() as db:
            if db.execute("SELECT 1 FROM subscriptions WHERE url = ?", (url,)).fetchone():
                raise SubscriptionError(f"already subscribed to {url}")
            db.execute(
                f"INSERT INTO subscriptions ({_SELECTED}) "
                f"VALUES ({', '.join('?' * len(SUBSCRIPTION_COLUMNS))})",
                [getattr(subscription, name) for name in SUBSCRIPTION_COLUMNS],
            )
        return subscription

    def remove(self, url: str) -> None:
        self.require(url)
        with self.library._transaction() as db:
            db.execute("DELETE FROM subscriptions WHERE url = ?", (url,))

    def save(self, subscription: Subscription) -> None:
        """Store a check's outcome (a subscription removed meanwhile stays removed)."""
        names = [name for name in SUBSCRIPTION_COLUMNS if name not in ("url", "added_at")]
        with self.library._transaction() as db:
            db.execute(
                f"UPDATE subscriptions SET {', '.join(f'{n} = ?' for n in names)} WHERE url = ?",
                [*(getattr(subscription, n) for n in names), subscription.url],
            )
