"""The Library tab: its size, adding files and URLs, searching and deleting articles."""

from __future__ import annotations

from typing import Any

import gradio as gr

import rag
from ingest import SUPPORTED_SUFFIXES, ingest
from ui import render
from ui.uploads import collect, discard_refused
from ui.workspace import LIBRARY_WRITE, Workspace

READ_ONLY = "This library is read-only here: articles can be searched but not added or deleted."
CONFIRM_DELETE = """(articleId, query, title) => {
  const name = title || articleId;
  const sure = window.confirm(`Delete “${name}” from the library? This can't be undone.`);
  return [sure ? articleId : "", query, title];
}"""
TABLE_HEADERS = ["Title", "Source", "Published", "Chunks", "Id"]


class LibraryTab:
    def __init__(self, space: Workspace):
        self.space = space

    # ------------------------------------------------------------------ layout and events
    def layout(self) -> None:
        self.stats_box = gr.Markdown(self.stats())
        with gr.Row():
            self.files = gr.File(
                label="Upload articles or feeds (txt, md, html, jsonl, rss/atom)",
                file_count="multiple",
                file_types=list(SUPPORTED_SUFFIXES),
                type="filepath",
            )
            self.urls = gr.Textbox(
                label="Or paste article or feed URLs, one per line",
                lines=5,
                placeholder="https://example.com/news/story.html",
            )
        self.add_button = gr.Button("Add to library", variant="primary")
        self.result = gr.HTML()
        self.search = gr.Textbox(label="Search articles", placeholder="title, source or URL")
        self.articles = gr.Dataframe(
            value=self.table(),
            headers=TABLE_HEADERS,
            datatype=["str", "str", "str", "number", "str"],
            interactive=False,
            wrap=True,
            max_height=480,
            column_widths=["46%", "18%", "12%", "8%", "16%"],
            elem_id="nr-table",
        )
        self.selected = gr.Textbox(visible=False)
        self.selected_title = gr.Textbox(visible=False)
        self.delete_button = gr.Button("Delete selected article", variant="stop",
                                       interactive=False)  # fmt: skip

    def wire(self, header: gr.HTML, sources: gr.Dropdown) -> None:
        """``header`` and the chat's ``sources`` filter change with the library."""
        changed = [self.articles, self.stats_box, header, sources, self.files, self.urls]
        self.add_button.click(self.add, [self.files, self.urls], [self.result, *changed],
                              api_visibility="private", **LIBRARY_WRITE)  # fmt: skip
        self.search.change(self.table, self.search, self.articles, api_visibility="private")
        self.articles.select(self.select, None,
                             [self.selected, self.selected_title, self.delete_button],
                             api_visibility="private")  # fmt: skip
        self.delete_button.click(
            self.delete,
            [self.selected, self.search, self.selected_title],
            [self.selected, self.delete_button, self.articles, self.stats_box, header, sources],
            # Asked in the browser first, naming the whole title; "Cancel" sends no id.
            js=CONFIRM_DELETE,
            api_visibility="private",
            **LIBRARY_WRITE,
        )

    # ------------------------------------------------------------------ handlers

    def table(self, query: str = "") -> list[list[Any]]:
        needle = (query or "").casefold().strip()
        rows = []
        for a in self.space.library.articles():
            row = [
                a.title,
                a.source or "unknown",
                a.published_date.isoformat() if a.published_date else "unknown",
                a.chunk_count,
                a.id,
            ]
            if not needle or needle in f"{a.title} {a.source or ''} {a.url or ''}".casefold():
                rows.append(row)
        return rows

    def stats(self) -> str:
        s = self.space.library.stats()
        dates = f"{s['oldest'][:10]} to {s['newest'][:10]}" if s["oldest"] else "no dated articles"
        return (
            f"**{s['articles']:,}** articles · **{s['chunks']:,}** passages · "
            f"**{s['sources']}** sources · {dates} · {s['undated']} undated"
        )

    def run_ingest(self, files, urls, progress: gr.Progress | None = None) -> dict[str, Any]:
        """Take uploads and URLs into the library; returns the summary (also the API's reply)."""
        self.refuse_if_read_only()
        batch = collect(
            files, urls, self.space.settings.data_dir / "uploads", self.space.settings.max_file_mb
        )
        result: dict[str, Any] = {"added": 0, "updated": 0, "unchanged": 0,
                                  "failed": len(batch.problems), "errors": list(batch.problems),
                                  "notes": [], "titles": []}  # fmt: skip
        if batch.inputs:
            position = {name: i for i, name in enumerate(batch.inputs)}

            def on_progress(state):
                if progress is not None:
                    done = position.get(state.current, len(batch.inputs))
                    progress((done, len(batch.inputs)), desc=f"{state.articles} articles read")

            summary = ingest(batch.inputs, self.space.settings, on_progress=on_progress)
            discard_refused(batch, self.space.library)
            for key in ("added", "updated", "unchanged", "failed"):
                result[key] += getattr(summary, key)
            result["errors"] += [batch.as_uploaded(e) for e in summary.errors]
            result["notes"] = [batch.as_uploaded(n) for n in summary.notes]
            result["titles"] = summary.titles
        return result

    def add(self, files, urls, progress=gr.Progress()):  # noqa: B008  (Gradio's injection idiom)
        if not files and not (urls or "").strip():
            return (
                '<div class="ingest-result">Choose files or paste URLs first.</div>',
                *self.refreshed(),
            )
        result = self.run_ingest(files, urls, progress)
        counts = (
            f"Added {result['added']}, updated {result['updated']}, unchanged "
            f"{result['unchanged']}, failed {result['failed']}."
        )
        items = [f'<li class="added">{render.html_text(t)}</li>' for t in result["titles"]]
        items += [f'<li class="failed">{render.html_text(e)}</li>' for e in result["errors"]]
        items += [f"<li>{render.html_text(n)}</li>" for n in result["notes"]]
        html = f'<div class="ingest-result">{counts}<ul>{"".join(items)}</ul></div>'
        return html, *self.refreshed(clear_inputs=True)

    def refreshed(self, clear_inputs: bool = False, query: str = ""):
        """(table, stats, header, sources filter, files, urls) after the library changed."""
        return (
            self.table(query),
            self.stats(),
            self.space.stats_line(),
            gr.Dropdown(choices=self.space.sources()),
            None if clear_inputs else gr.skip(),
            "" if clear_inputs else gr.skip(),
        )

    @staticmethod
    def select(event: gr.SelectData):
        """A click on a row selects its article for deletion: (id, whole title, button)."""
        title, article_id = event.row_value[0], event.row_value[4]
        short = title if len(title) <= 60 else title[:59] + "…"
        return article_id, title, gr.Button(value=f"Delete “{short}”", interactive=True)

    def refuse_if_read_only(self) -> None:
        if self.space.library.read_only:
            raise gr.Error(READ_ONLY)

    def delete(self, article_id: str, query: str, title: str = ""):
        """Delete the selected article (confirmed in the browser: an empty id is "Cancel")."""
        if not article_id:
            return (gr.skip(),) * 6
        self.refuse_if_read_only()
        rag.delete_articles(self.space.library, [article_id])
        table, stats, header, sources, *_ = self.refreshed(query=query)
        cleared = gr.Button(value="Delete selected article", interactive=False)
        return "", cleared, table, stats, header, sources
