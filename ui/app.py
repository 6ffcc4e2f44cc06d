"""The chat window's layout: a Chat tab (the conversation, its sources, What's new, the
Filters) and a Library tab (articles, feeds), composed from panels that each own their
components, events and handlers. Built only on the public APIs of ``rag`` and ``ingest``.

    ui/workspace.py  what every panel shares (settings, engine, library, the header)
    ui/chat.py       the conversation, question box, Stop, retry, export, sources panel
    ui/filters.py    dates, "as of", sources, answerer, and the summary by the box
    ui/whatsnew.py   the most covered stories of the week; a click asks about one
    ui/library.py    add, search and delete articles
    ui/feeds.py      subscriptions and their health
    ui/refresh.py    keeps an open page current as the library changes
    ui/api.py        /ask and /ingest for gradio_client
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from rag import NewsQueryEngine, Settings
from ui.api import Api
from ui.chat import ChatPanel
from ui.feeds import FeedsPanel
from ui.filters import Filters
from ui.library import LibraryTab
from ui.refresh import PageRefresh
from ui.whatsnew import WhatsNewPanel
from ui.workspace import Workspace

ASSETS = Path(__file__).parent / "assets"
# Gradio keeps a copy of every file it sends (each answer's export, each upload) in its cache:
# every day, those older than a day go; a page open longer re-exports on its next answer.
GRADIO_CACHE_PRUNE = (86_400, 86_400)


def build_app(settings: Settings, engine: NewsQueryEngine) -> gr.Blocks:
    space = Workspace(settings, engine)
    chat, filters, news = ChatPanel(space), Filters(space), WhatsNewPanel(space.library)
    library, feeds = LibraryTab(space), FeedsPanel(settings, space.library)

    with gr.Blocks(title="newsrag", fill_width=False, delete_cache=GRADIO_CACHE_PRUNE) as app:
        header = gr.HTML(space.stats_line())
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False, elem_id="nr-chat-row"):
                    with gr.Column(scale=3, min_width=320):
                        chat.layout()
                    with gr.Column(scale=2, min_width=320):
                        chat.layout_sources()
                        news.layout()
                filters.layout()
            with gr.Tab("Library", id="library"):
                library.layout()
                feeds.layout()

        chat.wire(filters)
        news.wire(chat.question, chat.ask_on, filters.as_of)
        library.wire(header, filters.sources)
        feeds.wire()
        filters.wire(chat.active_filters)
        PageRefresh(space, library, feeds, news).wire(app, header, chat, filters)
        Api(space).wire(library)
    return app


def theme() -> gr.themes.Base:
    return gr.themes.Soft(
        primary_hue="blue",
        neutral_hue="slate",
        # System fonts only: a web font would be fetched from the internet on every page load.
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


def launch_options() -> dict[str, Any]:
    script = (ASSETS / "app.js").read_text(encoding="utf-8")
    return {
        "css_paths": [ASSETS / "app.css"],
        "head": f"<script>{script}</script>",
        "theme": theme(),
        "footer_links": [],
    }
