"""The chat's "What's new" panel: the most covered stories of the last days (``rag.digest``),
each with its outlets, dates and lead sentence cited; a click on a story asks about it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import gradio as gr

import rag
from ui import render
from ui.workspace import as_day

PERIOD_DAYS = 7  # the panel's period: a week, the span of most "this week" questions
PANEL_STORIES = 5
NO_STORIES = "(no stories in this period)"


def question_about(headline: str) -> str:
    return f"What is the latest on “{headline}”?"


class WhatsNew:
    def __init__(self, library: rag.Library):
        self.library = library

    def stories(self, as_of: str | None = None) -> tuple[list[rag.Story], date, date]:
        """The week up to ``as_of`` (or today); a library whose newest article is older than
        that (an archive) shows the week up to its newest article instead of nothing."""
        last = date.fromisoformat(as_of[:10]) if as_of else date.today()
        stories = rag.most_covered(self.library, last - timedelta(days=PERIOD_DAYS), last,
                             limit=PANEL_STORIES)  # fmt: skip
        if not stories and not as_of and (newest := self.library.newest_published(last)):
            last = newest
            stories = rag.most_covered(self.library, last - timedelta(days=PERIOD_DAYS), last,
                                 limit=PANEL_STORIES)  # fmt: skip
        return stories, last - timedelta(days=PERIOD_DAYS), last

    def panel(self, as_of: str | None = None) -> tuple[str, list[list[str]]]:
        """(the panel's HTML, one clickable headline per story)."""
        stories, first, last = self.stories(as_of)
        if not stories:
            return (f'<div class="whats-new empty">No articles published from {first} to '
                    f"{last}.</div>"), []  # fmt: skip
        items = []
        for story in stories:
            lead = story.lead
            link = render.safe_url(lead.url)
            cite = (f'<a class="cite" href="{render.html_text(link)}" target="_blank" '
                    'rel="noopener noreferrer">[1]</a>') if link else "[1]"  # fmt: skip
            items.append(
                f'<li><div class="story-head">{render.html_text(story.headline)}</div>'
                f'<div class="src-meta">{render.html_text(story.coverage())}</div>'
                f"<blockquote>{render.html_text(lead.quote)} {cite}</blockquote></li>"
            )
        heading = f"Most covered, {first} to {last} (click a story below to ask about it)"
        html = f'<div class="whats-new"><div class="src-meta">{heading}</div><ol>'
        html += "".join(items) + "</ol></div>"
        return html, [[story.headline] for story in stories]


class WhatsNewPanel:
    """The panel beside the chat: the stories of ``WhatsNew`` as of the Filters' day."""

    def __init__(self, library: rag.Library):
        self.news = WhatsNew(library)

    def layout(self) -> None:
        with gr.Accordion("What's new", open=False, elem_id="nr-news"):
            self.list = gr.HTML(elem_id="nr-news-list")
            self.stories = gr.Dataset(
                components=[gr.Textbox(visible=False)],
                samples=[[NO_STORIES]],
                label="Ask about a story",
                elem_id="nr-stories",
            )

    def wire(self, question: gr.Textbox, ask_on: Callable, as_of: gr.DateTime) -> None:
        """A story clicked goes into ``question`` and is asked (``ask_on`` answers after an
        event); the panel follows the ``as_of`` day."""
        picked = self.stories.click(self.pick_story, self.stories, question, queue=False,
                                    api_visibility="private")  # fmt: skip
        ask_on(picked.then)
        as_of.change(self.refreshed, as_of, [self.list, self.stories], show_progress="hidden",
                     api_visibility="private", queue=False)  # fmt: skip

    def refreshed(self, as_of: Any = None):
        """(the panel's HTML, its clickable stories) as of ``as_of``."""
        html, questions = self.news.panel(as_day(as_of))
        return html, gr.Dataset(samples=questions or [[NO_STORIES]])

    @staticmethod
    def pick_story(sample: list[str]) -> str:
        """A story clicked: the question about it goes into the box."""
        return "" if sample[0] == NO_STORIES else question_about(sample[0])
