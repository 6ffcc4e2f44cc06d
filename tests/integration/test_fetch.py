"""URLs and feeds over a real loopback HTTP server."""

from __future__ import annotations

import time

import pytest

from ingest import ingest
from rag.store import Library

pytestmark = pytest.mark.slow

PAGE = """<html><head><title>Ferry service expands | Bay Herald</title>
<link rel="canonical" href="{url}/news/ferry"/>
<meta property="og:site_name" content="Bay Herald"><meta name="author" content="Sam Wu">
<meta property="article:published_time" content="2024-05-02T08:00:00Z"></head>
<body><article><h1>Ferry service expands</h1>
<p>The Bay ferry will add four daily crossings from June, the transit authority said on
Thursday. The new boats carry 300 passengers each and run on batteries.</p>
<p>Transit director Ana Lima said fares would stay at 3 dollars.</p>
<p>Sign up for our newsletter to get Bay news in your inbox.</p></article></body></html>"""

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Bay Herald</title>
<item><title>Ferry service expands</title><link>{url}/news/ferry</link>
<description>The ferry adds crossings.</description><pubDate>Thu, 02 May 2024 08:00:00 GMT</pubDate></item>
<item><title>Pier closes for repairs</title><link>{url}/news/gone</link>
<description>The old pier will close for repairs in July, the harbour office said.</description>
<pubDate>Fri, 03 May 2024 08:00:00 GMT</pubDate></item>
</channel></rss>"""


def test_article_page_url(settings, web):
    web.routes["/news/ferry"] = (200, "text/html; charset=utf-8", PAGE.format(url=web.url).encode())
    summary = ingest([f"{web.url}/news/ferry"], settings)
    assert (summary.added, summary.failed) == (1, 0)
    with Library(settings) as library:
        [article] = library.articles()
    assert article.title == "Ferry service expands"
    assert (article.source, article.author) == ("Bay Herald", "Sam Wu")
    assert article.url == f"{web.url}/news/ferry"
    assert str(article.published_date) == "2024-05-02"
    assert "Ana Lima" in article.body and "newsletter" not in article.body


def test_feed_url_fetches_linked_pages_and_falls_back_to_summaries(settings, web):
    web.routes["/feed"] = (200, "application/rss+xml", FEED.format(url=web.url).encode())
    web.routes["/news/ferry"] = (200, "text/html", PAGE.format(url=web.url).encode())
    summary = ingest([f"{web.url}/feed"], settings)
    assert (summary.added, summary.failed) == (2, 0), summary.errors
    assert any("summary only" in note for note in summary.notes)
    with Library(settings) as library:
        by_title = {a.title: a for a in library.articles()}
    assert "Ana Lima" in by_title["Ferry service expands"].body  # full page fetched
    pier = by_title["Pier closes for repairs"]
    assert pier.body.startswith("The old pier will close")
    assert pier.notes == ["summary only: the linked page could not be fetched"]
    assert str(pier.published_date) == "2024-05-03"


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ((404, "text/html", b"gone"), "HTTP 404"),
        ((200, "text/html", b"<html>" + b"x" * 3_000_000 + b"</html>"), "byte limit"),
        ((200, "application/rss+xml", b"<html><body>not a feed</body></html>"), "not an RSS"),
    ],
)
def test_bad_urls_are_named(settings, web, route, reason):
    web.routes["/x"] = route
    settings = settings.model_copy(update={"max_fetch_mb": 2.0})
    summary = ingest([f"{web.url}/x"], settings)
    assert summary.failed == 1
    assert summary.errors[0].startswith(f"{web.url}/x: ") and reason in summary.errors[0]


def test_slow_server_times_out(settings, web):
    def slow():
        time.sleep(3)
        return 200, "text/html", b"<html></html>"

    web.routes["/slow"] = slow
    settings = settings.model_copy(update={"fetch_timeout_s": 1.0})
    summary = ingest([f"{web.url}/slow"], settings)
    assert summary.errors == [f"{web.url}/slow: unreachable: no answer within 1 s"]
