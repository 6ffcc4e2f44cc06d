"""The app's HTTP API for ``gradio_client``: ``/ask`` and ``/ingest``."""

from __future__ import annotations

import gradio as gr

import rag
from ui.library import LibraryTab
from ui.workspace import LIBRARY_WRITE, Workspace, plain_words


class Api:
    def __init__(self, space: Workspace):
        self.space = space

    def ask(
        self,
        question: str,
        as_of: str = "",
        sources: list[str] | None = None,
        since: str = "",
        until: str = "",
        answerer: str = "",
    ) -> dict:
        """Answer a question from the library. Returns the Answer as JSON (text with [n],
        short_answer, refused, citations with quotes and offsets, closest sources)."""
        try:
            options = rag.AskOptions.build(
                as_of=as_of or None, sources=sources or None, since=since or None,
                until=until or None, answerer=answerer or None,
            )  # fmt: skip
            answer = self.space.engine.ask(question, options)
        except Exception as error:
            raise gr.Error(plain_words(error)) from None
        return answer.model_dump(mode="json")

    def wire(self, library: LibraryTab) -> None:
        """``/ask`` is ``ask``; ``/ingest`` is the Library tab's ``run_ingest`` (files and URLs
        sent by hidden components, as the page's own upload)."""
        gr.api(self.ask, api_name="ask")
        files = gr.File(file_count="multiple", visible=False)
        urls = gr.Textbox(visible=False)
        result = gr.JSON(visible=False)
        trigger = gr.Button(visible=False)
        trigger.click(
            library.run_ingest,
            [files, urls],
            result,
            api_name="ingest",
            api_description="Add files (gradio_client.handle_file) and/or URLs (one per line); "
            "returns counts and per-item errors.",
            **LIBRARY_WRITE,
        )
