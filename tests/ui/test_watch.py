"""`newsrag ui --watch` as a user runs it, beside a live loopback feed: an article that appears
in the feed while the window is open shows up in the header, the Library tab and answers,
without a restart; the Feeds section lists the subscription and its health."""

from __future__ import annotations

import signal
import subprocess
from datetime import UTC, datetime

import pytest

import rag
from tests.support import NEWSRAG, subprocess_env
from tests.support.feeds import Entry, Feed, feed_server
from tests.support.servers import free_port, wait_for

pytestmark = pytest.mark.slow

FILLER = "Residents spoke for an hour and officials answered every question in turn. " * 12


def up_or_stacks(url: str, process: subprocess.Popen, seconds: float = 180) -> None:
    """Until the window answers; a process that never gets there fails the test with the
    stack of each of its threads, which says where it waits."""
    try:
        wait_for(url, process, seconds=seconds)
    except TimeoutError:
        process.send_signal(signal.SIGABRT)
        _, stderr = process.communicate(timeout=30)
        threads = stderr.split("Extension modules:")[0]  # not the list of loaded modules
        pytest.fail(f"not up after {seconds} s; its threads:\n{threads[-12000:]}")


def test_an_article_arriving_in_a_feed_is_answerable_in_the_open_window(tmp_path, page):
    from gradio_client import Client

    settings = rag.load_settings(data_dir=tmp_path / "lib", feed_min_every_s=1)
    port = free_port()
    with feed_server() as feeds:
        feed = Feed("Harbor Times", [Entry("a", "Ferry service resumes",
                                           "The harbor ferry resumed service. " + FILLER)])  # fmt: skip
        feeds.routes["/news.rss"] = feed
        from ingest import subscribe

        subscribe(f"{feeds.url}/news.rss", settings, every="2s")
        process = subprocess.Popen(
            [*NEWSRAG, "--data-dir", str(settings.data_dir), "ui", "--port", str(port),
             "--watch"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            # SIGABRT dumps every thread's stack (see up_or_stacks)
            env=subprocess_env(NEWSRAG_FEED_MIN_EVERY_S="1", PYTHONFAULTHANDLER="1"),
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/"
            up_or_stacks(url, process)
            page.goto(url)
            header = page.locator("#nr-header .stats")
            page.wait_for_function(
                "() => (document.querySelector('#nr-header .stats')?.innerText ?? '')"
                ".includes('1 feed: 1 ok')",
                timeout=90_000,
            )
            page.get_by_role("tab", name="Library").click()
            feeds_table = page.locator("#nr-feeds-table")
            feeds_table.get_by_text(f"{feeds.url}/news.rss").filter(visible=True).wait_for()
            feeds_table.get_by_text("ok", exact=True).filter(visible=True).wait_for()

            feed.entries.append(Entry(
                "b", "Lighthouse keeper retires",
                "Lighthouse keeper Ada Quill retired on Friday after forty years. " + FILLER,
                published=datetime.now(UTC),
            ))  # fmt: skip
            arrived = page.locator("#nr-table").get_by_text("Lighthouse keeper retires")
            arrived.filter(visible=True).first.wait_for(
                timeout=90_000
            )  # ingested by the poller, seen by the page
            assert "2 articles" in header.inner_text()
            answer = Client(url, verbose=False).predict(
                "Who retired after forty years as lighthouse keeper?", api_name="/ask"
            )
            assert "Ada Quill" in answer["text"]
            assert page.errors == []
        finally:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
    assert "Traceback" not in err
    assert "polling the feed subscriptions" in err
    assert process.returncode == 0
