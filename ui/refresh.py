"""What keeps an open page current: everything that shows the library is read when the page
loads, and again whenever the library or its feeds change, in this process or another (a CLI
ingest, a feed poller)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui.chat import ChatPanel
from ui.feeds import FeedsPanel
from ui.filters import Filters
from ui.library import LibraryTab
from ui.whatsnew import WhatsNewPanel
from ui.workspace import Workspace

# How often an open page asks whether the library changed: one small SQLite read per page.
LIBRARY_POLL_S = 5.0


class PageRefresh:
    def __init__(self, space: Workspace, library: LibraryTab, feeds: FeedsPanel,
                 news: WhatsNewPanel):  # fmt: skip
        self.space, self.library, self.feeds, self.news = space, library, feeds, news

    def state(self) -> str:
        """Moves whenever the library or a feed's health does."""
        return f"{self.space.library.generation}#{self.feeds.state()}"

    def poll(self, seen: str, query: str = "", as_of: Any = None):
        """(state, table, stats, header, sources filter, example questions, feeds table,
        what's new, its stories) if the page last saw another state than ``seen``, else
        skips. On page load all is read fresh."""
        state = self.state()
        if state == seen:
            return (gr.skip(),) * 9
        table, stats, header, sources, *_ = self.library.refreshed(query=query)
        examples = gr.Chatbot(examples=self.space.examples() or None)
        news, stories = self.news.refreshed(as_of)
        return state, table, stats, header, sources, examples, self.feeds.table(), news, stories

    def wire(self, app: gr.Blocks, header: gr.HTML, chat: ChatPanel, filters: Filters) -> None:
        seen = gr.State("")
        shown = [seen, self.library.articles, self.library.stats_box, header, filters.sources,
                 chat.chatbot, self.feeds.feeds, self.news.list, self.news.stories]  # fmt: skip
        inputs = [seen, self.library.search, filters.as_of]
        poll = {"api_visibility": "private", "queue": False}  # never waits behind questions
        app.load(self.poll, inputs, shown, **poll)
        gr.Timer(LIBRARY_POLL_S).tick(self.poll, inputs, shown, show_progress="hidden", **poll)
