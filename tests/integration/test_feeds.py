"""Feed subscriptions and the poller against a real loopback feed server whose feeds change
between polls: conditional GETs, edits, 304/500/429, slow, malformed and huge feeds, a slow
feed beside a fast one, summary-only entries, and `newsrag watch` stopped by Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

import rag
from ingest.watch import Watcher, check, check_now, subscribe
from tests.support import NEWSRAG, subprocess_env
from tests.support.feeds import Entry, Feed, Reply, feed_server

pytestmark = pytest.mark.slow

FILLER = (
    "The council heard from residents for three hours before the vote. Several speakers "
    "asked about the cost and the timetable, and officials answered each question in turn. "
)


def story(lead: str) -> str:
    """A full-content entry: long enough (150+ words) not to be taken for a teaser."""
    return lead + " " + FILLER * 8


@pytest.fixture
def feeds():
    with feed_server() as server:
        yield server


@pytest.fixture
def settings(tmp_path):
    return rag.load_settings(data_dir=tmp_path / "library", feed_min_every_s=1)


def library_of(settings):
    return rag.open_library(settings, create=True)


def test_subscribing_checks_the_url_and_stores_nothing_when_it_is_bad(feeds, settings):
    feeds.routes["/news.rss"] = Feed("Harbor Times")
    feeds.page("/page.html", "Not a feed", "Just a page.")
    sub = subscribe(f"{feeds.url}/news.rss", settings, every="15m", source="Harbor Times")
    assert (sub.every_s, sub.source) == (900, "Harbor Times")
    bad = {
        "ftp://example.org/feed": "is not an http(s) URL",
        f"{feeds.url}/page.html": "page.html: not an RSS or Atom feed (got text/html",
        f"{feeds.url}/missing.rss": "HTTP 404",
        f"{feeds.url}/news.rss": "already subscribed",
    }
    for url, said in bad.items():
        with pytest.raises(rag.SubscriptionError, match=re.escape(said)):
            subscribe(url, settings)
    with pytest.raises(rag.SubscriptionError, match="shorter than the 1 s minimum"):
        subscribe(f"{feeds.url}/other.rss", settings, every="0s")
    with pytest.raises(rag.SubscriptionError, match="expected a number with s, m, h or d"):
        subscribe(f"{feeds.url}/other.rss", settings, every="soon")
    with library_of(settings) as library:
        assert [s.url for s in library.subscriptions.all()] == [f"{feeds.url}/news.rss"]


def test_checks_ingest_new_and_edited_entries_and_a_304_costs_nothing(feeds, settings):
    feed = Feed("Harbor Times", [
        Entry("a", "Ferry service resumes", story("The harbor ferry resumed service on Monday.")),
        Entry("b", "Pier repairs approved", story("The council approved pier repairs.")),
    ])  # fmt: skip
    feeds.routes["/news.rss"] = feed
    url = f"{feeds.url}/news.rss"
    subscribe(url, settings, every="1m", source="Harbor Desk")
    with library_of(settings) as library:
        first = check(library.subscriptions.require(url), settings, library)
        assert (first.result, first.added) == ("ingested", 2)
        assert {a.source for a in library.articles()} == {"Harbor Desk"}  # --source wins

        second = check(library.subscriptions.require(url), settings, library)
        assert second.result == "not modified"
        assert feeds.requested("/news.rss")[-1].headers["if-none-match"]  # a conditional GET

        feed.entries[1].text = story("The council approved pier repairs costing 4 million.")
        feed.entries.append(
            Entry("c", "Lighthouse reopens", story("The old lighthouse reopened to visitors."))
        )
        third = check(library.subscriptions.require(url), settings, library)
        assert (third.added, third.updated, third.unchanged) == (1, 1, 1)
        sub = library.subscriptions.require(url)
        assert (sub.items_ingested, sub.failures, sub.last_error) == (4, 0, None)
        assert sub.last_new_item and sub.last_checked
    answer = rag.open_engine(settings=settings).ask("How much do the pier repairs cost?")
    assert "4 million" in answer.text


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(500, b"oops", "text/plain"), "HTTP 500"),
        (
            Reply(200, b"<html><body>maintenance</body></html>", "text/html"),
            "not an RSS or Atom feed (got text/html)",
        ),
        (
            Reply(200, b"<rss><channel><item><title>broken", "application/rss+xml"),
            "feed entry has neither content nor summary",
        ),
    ],
    ids=["500", "html instead", "malformed"],
)
def test_a_failing_feed_backs_off_exponentially(feeds, settings, reply, error):
    url = f"{feeds.url}/news.rss"
    feeds.routes["/news.rss"] = Feed("Harbor Times", [Entry("a", "Ferry", story("Ferry."))])
    subscribe(url, settings, every="60s")
    feeds.routes["/news.rss"] = lambda _: reply
    with library_of(settings) as library:
        delays = []
        for _ in range(3):
            before = datetime.now(UTC)
            outcome = check(library.subscriptions.require(url), settings, library)
            assert outcome.result == "failed" and error in outcome.error
            delays.append((datetime.fromisoformat(outcome.next_check) - before).total_seconds())
        sub = library.subscriptions.require(url)
        assert sub.failures == 3 and error in sub.last_error
    assert [round(d / 60) for d in delays] == [2, 4, 8]  # every x 2^failures


def test_retry_after_is_respected_and_the_poller_waits_it_out(feeds, settings):
    url = f"{feeds.url}/news.rss"
    feeds.routes["/news.rss"] = Feed("Harbor Times")
    subscribe(url, settings, every="60s")
    feeds.routes["/news.rss"] = lambda _: Reply(429, b"slow down", "text/plain",
                                                {"Retry-After": "3600"})  # fmt: skip
    watcher = Watcher(settings)
    try:
        outcome = watcher.poll(url)
        assert outcome.result == "failed" and "HTTP 429" in outcome.error
        wait = datetime.fromisoformat(outcome.next_check) - datetime.now(UTC)
        assert wait > timedelta(minutes=59)  # not the 2 minutes of its own backoff
        asked = len(feeds.requested("/news.rss"))
        assert watcher.poll(url) is None  # due again by its interval, but Retry-After says no
        assert len(feeds.requested("/news.rss")) == asked
    finally:
        watcher.stop()


def test_slow_and_huge_feeds_fail_with_their_limits(feeds, tmp_path):
    settings = rag.load_settings(data_dir=tmp_path / "lib", fetch_timeout_s=1, max_fetch_mb=0.01,
                                 feed_min_every_s=1)  # fmt: skip
    release = threading.Event()
    feeds.routes["/slow.rss"] = Feed("Slow")
    feeds.routes["/huge.rss"] = Feed("Huge")
    subscribe(f"{feeds.url}/slow.rss", settings)
    subscribe(f"{feeds.url}/huge.rss", settings)

    def slow(_):
        release.wait(10)
        return Reply(200, Feed("Slow").xml())

    feeds.routes["/slow.rss"] = slow
    feeds.routes["/huge.rss"] = lambda _: Reply(200, b"<rss>" + b" " * 20_000 + b"</rss>")
    try:
        outcomes = {o.url.rsplit("/", 1)[1]: o for o in check_now(settings)}
    finally:
        release.set()
    assert "no answer within 1 s" in outcomes["slow.rss"].error
    assert "over the 10485-byte limit" in outcomes["huge.rss"].error


def test_a_slow_feed_never_stalls_the_others(feeds, settings):
    """The slow feed's request is held until the fast feed's article is in the library: with
    one feed blocking the others, this would never happen."""
    fast = Feed("Fast News", [Entry("f", "Bridge opens", story("The new bridge opened."))])
    feeds.routes["/fast.rss"] = fast
    feeds.routes["/slow.rss"] = Feed("Slow News")
    for path in ("/slow.rss", "/fast.rss"):
        subscribe(f"{feeds.url}{path}", settings, every="1s")
    arrived = threading.Event()

    def held(_):
        arrived.wait(60)
        return Reply(200, Feed("Slow News").xml())

    feeds.routes["/slow.rss"] = held
    watcher = Watcher(settings, sync_s=0.2).start()
    try:
        with library_of(settings) as library:
            deadline = time.monotonic() + 60
            while not library.articles() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert [a.title for a in library.articles()] == ["Bridge opens"]
            assert feeds.requested("/slow.rss")  # asked, and still waiting for its answer
    finally:
        arrived.set()
        watcher.stop()


def test_summary_only_entries_fetch_their_page_once(feeds, settings):
    feeds.page("/story/1", "Market hall restored", story("The market hall was restored."))
    feed = Feed("Harbor Times", [Entry("1", "Market hall restored", link=f"{feeds.url}/story/1")])
    feeds.routes["/news.rss"] = feed
    url = f"{feeds.url}/news.rss"
    subscribe(url, settings, every="1m")
    feeds.page("/story/2", "School roof fixed", story("The school roof was fixed."))
    with library_of(settings) as library:
        assert check(library.subscriptions.require(url), settings, library).added == 1
        feed.entries.append(Entry("2", "School roof fixed", link=f"{feeds.url}/story/2"))
        outcome = check(library.subscriptions.require(url), settings, library)
        assert (outcome.added, outcome.unchanged) == (1, 1)
        assert len(feeds.requested("/story/1")) == 1  # not fetched again
        later = datetime.now(UTC) + timedelta(hours=1)
        feeds.page("/story/1", "Market hall restored", story("The market hall was restored "
                                                              "and reopened."))  # fmt: skip
        feed.entries[0].updated = later  # the entry says its story changed: fetched again
        outcome = check(library.subscriptions.require(url), settings, library)
        assert (outcome.updated, len(feeds.requested("/story/1"))) == (1, 2)


def test_watch_keeps_the_library_current_and_ctrl_c_mid_ingest_leaves_it_consistent(
    feeds, settings
):
    feed = Feed("Harbor Times", [Entry("a", "Ferry service resumes",
                                       story("The harbor ferry resumed service."))])  # fmt: skip
    feeds.routes["/news.rss"] = feed
    subscribe(f"{feeds.url}/news.rss", settings, every="1s")
    held, release = threading.Event(), threading.Event()
    # The held page would answer only after 300 s (and the fetch would wait 600): a stop that
    # waited for the fetch is told from one that doesn't by minutes, not by a tight bound.
    env = subprocess_env(NEWSRAG_FEED_MIN_EVERY_S="1", NEWSRAG_FETCH_TIMEOUT_S="600")
    watch = subprocess.Popen(
        [*NEWSRAG, "--data-dir", str(settings.data_dir), "watch"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        with library_of(settings) as library:
            wait_until(lambda: len(library.articles()) == 1, watch)

            # A summary-only entry whose page is held: the poller is stopped mid-ingest.
            def page(_):
                held.set()
                release.wait(300)
                return Reply(200, b"<html><body><p>late</p></body></html>", "text/html")

            feeds.routes["/story/held"] = page
            feed.entries.append(Entry("h", "Held story", link=f"{feeds.url}/story/held"))
            assert held.wait(60)
            started = time.monotonic()
            watch.send_signal(signal.SIGINT)
            _, err = watch.communicate(timeout=120)
            stopped_in = time.monotonic() - started
        assert stopped_in < 120, err  # STOP_GRACE_S (3 s) and exit, not the held fetch
        assert watch.returncode == 130 and "the library is consistent" in err
        assert "Traceback" not in err and "Ferry service resumes" not in err
        with library_of(settings) as library:
            assert library.check() == []  # consistent: no half-written article
            assert [a.title for a in library.articles()] == ["Ferry service resumes"]
    finally:
        release.set()
        release_all(watch)


def wait_until(condition, process, seconds=90):
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def release_all(process):
    if process.poll() is None:
        process.kill()
        process.communicate()


def test_the_feeds_commands(feeds, settings):
    feeds.routes["/news.rss"] = Feed("Harbor Times", [
        Entry("a", "Ferry service resumes", story("The harbor ferry resumed service."))])  # fmt: skip
    url = f"{feeds.url}/news.rss"

    def run(*args):
        return subprocess.run(
            [*NEWSRAG, "--data-dir", str(settings.data_dir), "feeds", *args],
            capture_output=True, text=True, timeout=300,
            env=subprocess_env(NEWSRAG_FEED_MIN_EVERY_S="1"),
        )  # fmt: skip

    added = run("add", url, "--every", "30m", "--source", "Harbor Desk")
    assert added.returncode == 0 and "subscribed to" in added.stdout and "every 30m" in added.stdout
    again = run("add", url)
    assert again.returncode == 2 and f"error: already subscribed to {url}" in again.stderr
    checked = run("check", "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)[0]["added"] == 1
    listed = json.loads(run("list", "--json").stdout)
    assert [(s["url"], s["source"], s["every_s"], s["items_ingested"], s["last_error"])
            for s in listed] == [(url, "Harbor Desk", 1800, 1, None)]  # fmt: skip
    assert listed[0]["last_checked"] and listed[0]["last_new_item"]
    table = run("list")
    assert "Harbor Desk" in table.stdout and "30m" in table.stdout
    gone = run("remove", f"{feeds.url}/other.rss")
    assert gone.returncode == 2 and "not subscribed to" in gone.stderr
    assert run("remove", url).returncode == 0
    assert json.loads(run("list", "--json").stdout) == []


def test_one_poller_per_library(feeds, settings):
    """A second poller would ask every feed twice as often as its subscription says."""
    from ingest.watch import AlreadyWatching

    feeds.routes["/news.rss"] = Feed("Harbor Times")
    subscribe(f"{feeds.url}/news.rss", settings, every="60s")
    first = Watcher(settings).start()
    try:
        with pytest.raises(AlreadyWatching, match=r"already being polled \(pid \d+\)"):
            Watcher(settings).start()
    finally:
        first.stop()
    Watcher(settings).start().stop()  # free again once the first has stopped
