"""The Library tab's Feeds section, through its handlers over a real library and a loopback
feed: subscribe (a bad URL is named, nothing stored), check now, the table's health,
unsubscribe."""

from __future__ import annotations

import pytest

import rag
from tests.support.feeds import Entry, Feed, Reply, feed_server
from ui.feeds import FeedsPanel

pytestmark = pytest.mark.slow
STORY = "The harbor ferry resumed service on Monday after a week of repairs. " * 20


def test_subscribe_check_and_unsubscribe_from_the_library_tab(tmp_path):
    settings = rag.load_settings(data_dir=tmp_path / "lib", feed_min_every_s=1)
    with feed_server() as feeds, rag.open_library(settings, create=True) as library:
        feeds.routes["/news.rss"] = Feed("Harbor Times", [Entry("a", "Ferry resumes", STORY)])
        feeds.page("/page.html", "A page", "Not a feed.")
        panel = FeedsPanel(settings, library)

        said, table, box = panel.subscribe(f"{feeds.url}/page.html", "", "")
        assert "not an RSS or Atom feed" in said and 'class="failed"' in said
        assert library.subscriptions.all() == []
        said, table, box = panel.subscribe(f"{feeds.url}/news.rss", "30m", "Harbor Desk")
        assert "Subscribed to" in said and box == ""
        assert table[0][:3] == [f"{feeds.url}/news.rss", "Harbor Desk", "30m"]
        assert table[0][-1] == "not checked yet"

        said, table = panel.check_now()
        assert "added 1" in said and table[0][5] == 1 and table[0][-1] == "ok"
        feeds.routes["/news.rss"] = lambda _: Reply(500, b"down", "text/plain")
        said, table = panel.check_now()
        assert 'class="failed"' in said and table[0][-1].startswith("failing (1x): HTTP 500")

        said, table = panel.unsubscribe(f"{feeds.url}/news.rss")
        assert "its articles stay" in said and table == []
        assert [a.title for a in library.articles()] == ["Ferry resumes"]
