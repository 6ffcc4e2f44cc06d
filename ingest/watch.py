"""Keeping the library current from its feeds: subscribing, one check, and the poller.

``check`` is one polite poll of one subscription: a conditional GET (ETag / Last-Modified), a
304 costs nothing, new and changed entries go through the normal pipeline
(``ingest_document``), and a failure pushes the next check back (doubling per consecutive
failure, capped; at least as long as the server's Retry-After). ``Watcher`` runs every
subscription on its own schedule with APScheduler: each feed is a job on a thread pool, so a
slow or dead feed holds one worker and never the others, and subscriptions added or removed
by another process are picked up while it runs. Writes go through the library's write lock and
journal like any ingest: stopping or killing the poller mid-ingest leaves the library
consistent, and the next check ingests what was left.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import IO, Literal

import feedparser

from ingest.fetch import Fetched, get
from ingest.loaders import InputError
from ingest.loaders.feed import looks_like_feed, refuse_xml_attacks
from ingest.pipeline import MB, Progress, ingest_document
from ingest.sources import is_url
from rag.errors import NewsragError
from rag.settings import Settings
from rag.store import Library
from rag.subscriptions import Subscription, SubscriptionError, now_iso

# How often a running poller re-reads the subscriptions table: a `feeds add` or `feeds remove`
# in another process (or the chat window) takes effect within this.
SUBSCRIPTIONS_SYNC_S = 10.0
# Ctrl-C waits this long for checks in flight to finish their current batch; then the process
# ends anyway (the journal keeps the library consistent, the next check redoes the rest).
STOP_GRACE_S = 3.0
_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str | int, settings: Settings) -> int:
    """``"15m"`` -> 900 seconds (s, m, h, d; a bare number is seconds); names a bad value."""
    match = _EVERY.match(str(text))
    if not match:
        raise SubscriptionError(f"--every {text!r}: expected a number with s, m, h or d, e.g. 15m")
    seconds = round(float(match.group(1)) * _UNIT_S[match.group(2).lower()])
    if seconds < settings.feed_min_every_s:
        raise SubscriptionError(
            f"--every {text!r} is shorter than the {settings.feed_min_every_s} s minimum "
            "(feed_min_every_s): polling that often burdens the publisher"
        )
    return seconds


FEED_TYPES = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"


def _headers(subscription: Subscription) -> dict[str, str]:
    headers = {"Accept": FEED_TYPES}
    if subscription.etag:
        headers["If-None-Match"] = subscription.etag
    if subscription.last_modified:
        headers["If-Modified-Since"] = subscription.last_modified
    return headers


def _fetch(url: str, settings: Settings, headers: dict[str, str] | None = None) -> Fetched:
    return get(
        url,
        timeout_s=settings.fetch_timeout_s,
        max_bytes=int(settings.max_fetch_mb * MB),
        allow_private=settings.allow_private_urls,
        headers=headers,
    )


def subscribe(
    url: str,
    settings: Settings,
    *,
    every: str | int | None = None,
    source: str | None = None,
    library: Library | None = None,
) -> Subscription:
    """Subscribe the library to the feed at ``url`` after checking it is one (fetched once,
    nothing ingested); a bad URL, a page that is not a feed or a second subscription to the
    same URL raise ``SubscriptionError`` and store nothing."""
    url = url.strip()
    if not is_url(url):
        raise SubscriptionError(f"{url!r} is not an http(s) URL")
    every_s = parse_every(every if every is not None else settings.feed_every_s, settings)
    own = library is None
    library = library or Library(settings)
    try:
        if library.subscriptions.get(url):
            raise SubscriptionError(f"already subscribed to {url}")
        try:
            got = _fetch(url, settings)
            if got.status >= 400:
                raise InputError(f"HTTP {got.status} {got.reason}")
            require_feed(got)
            if not feedparser.parse(got.document.data).version:
                raise InputError("not an RSS or Atom feed (unreadable as one)")
        except InputError as error:
            raise SubscriptionError(f"{url}: {error}") from None
        return library.subscriptions.add(url, every_s, source=(source or "").strip() or None)
    finally:
        if own:
            library.close()


def require_feed(got: Fetched) -> None:
    """A subscription's URL must still serve a feed: a maintenance page served instead
    would otherwise be ingested as an article."""
    if not looks_like_feed(got.document.data):
        kind = got.document.content_type or "unknown type"
        raise InputError(f"not an RSS or Atom feed (got {kind})")
    refuse_xml_attacks(got.document.data)


class Stopped(Exception):
    """The poller is stopping: the check in flight ends after its current step."""


@dataclass
class CheckOutcome:
    """What one check of one feed did."""

    url: str
    result: Literal["ingested", "not modified", "failed", "stopped"]
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    error: str | None = None
    next_check: str | None = None
    seconds: float = 0.0

    def line(self) -> str:
        if self.result == "ingested":
            done = f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}"
            done += f", failed {self.failed}" if self.failed else ""
        elif self.result == "failed":
            done = f"failed: {self.error}"
        else:
            done = self.result
        then = f"; next check {self.next_check}" if self.next_check else ""
        return f"{self.url}: {done} ({self.seconds:.1f} s){then}"


def retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff_s(subscription: Subscription, settings: Settings) -> float:
    """After the ``failures``-th failure in a row: every x 2^failures, capped."""
    return min(subscription.every_s * 2.0**subscription.failures, settings.feed_max_backoff_s)


def _later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0).isoformat()


def check(
    subscription: Subscription,
    settings: Settings,
    library: Library,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> CheckOutcome:
    """Poll one feed now and ingest what is new; the outcome is stored on the subscription."""
    started = time.perf_counter()
    sub = subscription
    outcome = CheckOutcome(url=sub.url, result="failed")
    wait_s = None
    try:
        got = _fetch(sub.url, settings, _headers(sub))
        if got.status == 304:
            outcome.result = "not modified"
        elif got.status >= 400:
            wait_s = retry_after_s(got.headers.get("retry-after"))
            raise InputError(f"HTTP {got.status} {got.reason}")
        else:
            require_feed(got)

            def on_progress(_: Progress) -> None:
                if should_stop and should_stop():
                    raise Stopped

            summary = ingest_document(
                got.document, settings, source=sub.source, on_progress=on_progress, library=library
            )
            outcome.added, outcome.updated = summary.added, summary.updated
            outcome.unchanged, outcome.failed = summary.unchanged, summary.failed
            if summary.failed and not summary.articles_seen:  # the whole feed was unusable
                raise InputError(summary.errors[0].removeprefix(f"{sub.url}: "))
            outcome.result = "ingested"
            sub.etag = got.headers.get("etag")
            sub.last_modified = got.headers.get("last-modified")
            if summary.added or summary.updated:
                sub.items_ingested += summary.added + summary.updated
                sub.last_new_item = now_iso()
    except Stopped:
        outcome.result = "stopped"  # nothing stored: the next check starts this one again
        outcome.seconds = time.perf_counter() - started
        return outcome
    except InputError as error:
        outcome.error = str(error)
    sub.last_checked = now_iso()
    if outcome.result == "failed":
        sub.failures += 1
        sub.last_error = outcome.error
        sub.next_check = _later(max(backoff_s(sub, settings), wait_s or 0.0))
    else:
        sub.failures, sub.last_error = 0, None
        sub.next_check = _later(sub.every_s)
    outcome.next_check = sub.next_check
    library.subscriptions.save(sub)
    outcome.seconds = time.perf_counter() - started
    return outcome


def check_now(
    settings: Settings, urls: list[str] | None = None, library: Library | None = None
) -> list[CheckOutcome]:
    """``newsrag feeds check [URL]``: poll the named feeds (default: all) once, now."""
    own = library is None
    library = library or Library(settings)
    try:
        subscriptions = (
            [library.subscriptions.require(url) for url in urls]
            if urls
            else library.subscriptions.all()
        )
        return [check(sub, settings, library) for sub in subscriptions]
    finally:
        if own:
            library.close()


class AlreadyWatching(NewsragError, RuntimeError):
    """Another poller already polls this library (its feeds would be asked twice)."""


class Watcher:
    """Every subscription polled on its own schedule until ``stop()`` (APScheduler).

    One poller per library: a second one (another `watch`, or `ui --watch`) is refused, since
    it would ask every feed twice as often as its subscription says."""

    def __init__(
        self,
        settings: Settings,
        *,
        on_check: Callable[[CheckOutcome], None] | None = None,
        sync_s: float = SUBSCRIPTIONS_SYNC_S,
    ):
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self.settings = settings
        self.library = Library(settings)
        self.on_check = on_check
        self.sync_s = sync_s
        self._stopping = threading.Event()
        self._active = 0
        self._idle = threading.Condition()
        self._intervals: dict[str, int] = {}
        self._lock: IO[str] | None = None
        self.scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(settings.watch_workers),
                "own": ThreadPoolExecutor(1),  # the table sync never waits behind a feed
            },
            # One check per feed at a time; a check that was due while the last ran is done
            # once, not once per missed slot.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def start(self) -> Watcher:
        lock = open(self.settings.data_dir / ".watch.lock", "a+")  # noqa: SIM115  (held while running)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise AlreadyWatching(
                f"the feeds of {self.settings.data_dir} are already being polled ({holder}); "
                "one `newsrag watch` or `newsrag ui --watch` per library"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}")
        lock.flush()
        self._lock = lock
        self.scheduler.start()
        self.scheduler.add_job(
            self.sync, "interval", seconds=self.sync_s, id="sync", executor="own",
            next_run_time=datetime.now(UTC),
        )  # fmt: skip
        return self

    def sync(self) -> None:
        """Schedule new subscriptions, drop removed ones, follow changed intervals."""
        subscriptions = {sub.url: sub for sub in self.library.subscriptions.all()}
        for url in set(self._intervals) - set(subscriptions):
            self.scheduler.remove_job(f"feed:{url}")
            del self._intervals[url]
        for url, sub in subscriptions.items():
            if self._intervals.get(url) == sub.every_s:
                continue
            now = datetime.now(UTC)  # a restarted poller keeps each feed's schedule
            due = datetime.fromisoformat(sub.next_check) if sub.next_check else now
            self.scheduler.add_job(
                self.poll, "interval", seconds=sub.every_s, args=[url], id=f"feed:{url}",
                replace_existing=True, next_run_time=max(due, now),
            )  # fmt: skip
            self._intervals[url] = sub.every_s

    def poll(self, url: str) -> CheckOutcome | None:
        """A scheduled check; skipped while a failed feed's backoff (or Retry-After) lasts."""
        sub = self.library.subscriptions.get(url)
        if sub is None or self._stopping.is_set():
            return None
        waiting = sub.failures and sub.next_check  # a success's next_check is the interval's
        if waiting and datetime.fromisoformat(sub.next_check) > datetime.now(UTC):
            return None
        with self._idle:
            self._active += 1
        try:
            outcome = check(sub, self.settings, self.library, should_stop=self._stopping.is_set)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()
        if self.on_check:
            self.on_check(outcome)
        return outcome

    def stop(self, grace_s: float = STOP_GRACE_S) -> bool:
        """Stop scheduling; wait up to ``grace_s`` for checks in flight. True when none is
        left (False: a check is still inside a fetch; the caller may end the process)."""
        self._stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        with self._idle:
            self._idle.wait_for(lambda: self._active == 0, timeout=grace_s)
            done = self._active == 0
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
        if done:
            self.library.close()
        return done
