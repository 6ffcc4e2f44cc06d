"""The Library tab's feeds: subscriptions with their health, subscribe, unsubscribe, check now.

The chat window shows and edits the same subscriptions table as ``newsrag feeds``; the poller
that checks them on schedule is ``newsrag watch`` or ``newsrag ui --watch``.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

import ingest
import rag
from ui import render
from ui.workspace import LIBRARY_WRITE

FEED_HEADERS = ["Feed", "Source", "Every", "Last checked", "Last new item", "Items", "Health"]


class FeedsPanel:
    def __init__(self, settings: rag.Settings, library: rag.Library):
        self.settings = settings
        self.library = library

    # ------------------------------------------------------------------ layout and events
    def layout(self) -> None:
        with gr.Accordion("Feeds", open=True, elem_id="nr-feeds"):
            gr.Markdown(
                "Subscribed feeds are checked on their schedule while `newsrag watch` "
                "or `newsrag ui --watch` runs; their new articles appear here."
            )
            with gr.Row():
                self.url = gr.Textbox(label="Feed URL (RSS or Atom)", scale=4,
                                      placeholder="https://example.com/news.rss")  # fmt: skip
                self.every = gr.Textbox(label="Check every", placeholder="15m", scale=1)
                self.source = gr.Textbox(label="Source name (optional)", scale=2)
            with gr.Row():
                self.subscribe_button = gr.Button("Subscribe", variant="primary")
                self.check_button = gr.Button("Check all feeds now")
                self.unsubscribe_button = gr.Button("Unsubscribe selected feed", variant="stop")
            self.result = gr.HTML()
            self.feeds = gr.Dataframe(value=self.table(), headers=FEED_HEADERS,
                                      interactive=False, wrap=True,
                                      elem_id="nr-feeds-table")  # fmt: skip
            self.selected = gr.Textbox(visible=False)

    def wire(self) -> None:
        private = {"api_visibility": "private"}
        self.subscribe_button.click(self.subscribe, [self.url, self.every, self.source],
                                    [self.result, self.feeds, self.url], **private)  # fmt: skip
        self.feeds.select(self.select, None, self.selected, **private)
        self.unsubscribe_button.click(self.unsubscribe, self.selected,
                                      [self.result, self.feeds], **private)  # fmt: skip
        self.check_button.click(self.check_now, None, [self.result, self.feeds], **private,
                                **LIBRARY_WRITE)  # fmt: skip

    # ------------------------------------------------------------------ handlers

    def table(self) -> list[list[Any]]:
        return [
            [s.url, s.source or "(feed title)", s.every_text, render.when(s.last_checked),
             render.when(s.last_new_item) if s.last_new_item else "-", s.items_ingested, s.health]
            for s in self.library.subscriptions.all()
        ]  # fmt: skip

    def state(self) -> str:
        """Changes whenever a subscription or its health does (what the page polls)."""
        return "|".join(
            f"{s.url}:{s.last_checked}:{s.failures}:{s.every_s}"
            for s in self.library.subscriptions.all()
        )

    def _refuse_if_read_only(self) -> None:
        if self.library.read_only:
            raise gr.Error("This library is read-only here: feeds can't be changed.")

    def subscribe(self, url: str, every: str, source: str):
        self._refuse_if_read_only()
        if not (url or "").strip():
            return _said("Paste a feed's URL first."), gr.skip(), gr.skip()
        try:
            sub = ingest.subscribe(url, self.settings, every=(every or "").strip() or None,
                                   source=source, library=self.library)  # fmt: skip
        except rag.NewsragError as error:
            return _said(str(error), failed=True), gr.skip(), gr.skip()
        said = (
            f"Subscribed to {sub.url} (every {sub.every_text}). New articles arrive "
            "while `newsrag watch` or `newsrag ui --watch` runs, or on Check now."
        )
        return _said(said), self.table(), ""

    def unsubscribe(self, url: str):
        self._refuse_if_read_only()
        if not url:
            return _said("Select a feed in the table first."), gr.skip()
        try:
            self.library.subscriptions.remove(url)
        except rag.NewsragError as error:
            return _said(str(error), failed=True), gr.skip()
        return _said(f"Unsubscribed from {url}; its articles stay in the library."), self.table()

    def check_now(self):
        self._refuse_if_read_only()
        outcomes = ingest.check_now(self.settings, library=self.library)
        if not outcomes:
            return _said("No feeds yet: subscribe to one above."), gr.skip()
        lines = "".join(
            f'<li class="{"failed" if o.result == "failed" else "added"}">'
            f"{render.html_text(o.line())}</li>"
            for o in outcomes
        )
        return f'<div class="ingest-result">Checked {len(outcomes)}:<ul>{lines}</ul></div>', (
            self.table()
        )

    @staticmethod
    def select(event: gr.SelectData) -> str:
        return event.row_value[0]


def _said(text: str, failed: bool = False) -> str:
    kind = "failed" if failed else "added"
    return f'<div class="ingest-result"><span class="{kind}">{render.html_text(text)}</span></div>'
