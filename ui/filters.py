"""The chat's Filters: published since/until, "as of", sources and the answerer, and the
one-line summary of what the next question will search (shown by the question box)."""

from __future__ import annotations

import gradio as gr

import rag
from ui import render
from ui.workspace import Workspace

HINT = (
    '<p class="filters-hint">As of: today if empty. "Last week" counts back from it, and '
    "articles published after it are hidden.</p>"
)


class Filters:
    def __init__(self, space: Workspace):
        self.space = space

    def layout(self) -> None:
        settings = self.space.settings
        answerers = rag.available_answerers(settings)
        with gr.Accordion("Filters", open=False, elem_id="nr-filters"):
            with gr.Row():
                self.since = gr.DateTime(label="Published since", include_time=False,
                                         type="string", elem_id="nr-since")  # fmt: skip
                self.until = gr.DateTime(label="Published until", include_time=False,
                                         type="string", elem_id="nr-until")  # fmt: skip
                self.as_of = gr.DateTime(label="As of", include_time=False,
                                         type="string", elem_id="nr-as-of")  # fmt: skip
            gr.HTML(HINT)  # below the row, not squeezed beside the "As of" label
            self.sources = gr.Dropdown(
                choices=self.space.sources(),
                multiselect=True,
                label="Sources (all if none chosen)",
            )
            self.answerer = gr.Radio(
                choices=[(rag.answerer_label(n, settings), n) for n in answerers],
                value=settings.answerer if settings.answerer in answerers else "extractive",
                label="Answerer",
                visible=len(answerers) > 1,
            )

    @staticmethod
    def summary_box() -> gr.HTML:
        """What the next question will search, to place by the question box (the controls are
        in the accordion, after the sources on a phone)."""
        return gr.HTML(render.filters_summary(None, None, None, None), elem_id="nr-active")

    @property
    def question_inputs(self) -> list[gr.components.Component]:
        """What a question is asked with, in ``ChatPanel.respond``'s order."""
        return [self.since, self.until, self.as_of, self.sources, self.answerer]

    def wire(self, summary: gr.HTML) -> None:
        narrowing = [self.since, self.until, self.as_of, self.sources]
        for control in narrowing:
            # One queue, one at a time: unqueued, two quick changes (as of, then since) were
            # separate requests that could finish out of order and leave the first one's
            # summary showing (a browser test caught it on a busy machine).
            control.change(render.filters_summary, narrowing, summary, queue=True,
                           concurrency_limit=1, concurrency_id="filters-summary",
                           show_progress="hidden", api_visibility="private")  # fmt: skip
