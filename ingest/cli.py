"""``newsrag ingest``: add or update articles from files, folders and URLs."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

import rag
from ingest.loaders.jsonl import FIELD_NAMES

if TYPE_CHECKING:  # the pipeline module loads the models: only when a command runs
    from ingest.pipeline import Progress

INTERRUPTED = 130  # the shell's status for a process stopped by Ctrl-C (128 + SIGINT)

app = typer.Typer()
out = Console(soft_wrap=True)
err = Console(stderr=True)


class FieldMapError(rag.NewsragError, ValueError):
    """A ``--field`` option that is not ``ours=theirs`` with a known field of ours."""


def parse_field_map(items: list[str]) -> dict[str, str]:
    """``["body=maintext", ...]`` -> ``{"body": "maintext"}``; names the first bad item."""
    field_map = {}
    for item in items:
        ours, sep, theirs = item.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise FieldMapError(f"--field {item!r}: expected ours=theirs, e.g. body=maintext")
        field_map[ours.strip()] = theirs.strip()
    unknown = sorted(set(field_map) - set(FIELD_NAMES))
    if unknown:
        raise FieldMapError(f"--field: unknown field {unknown[0]!r} ({', '.join(FIELD_NAMES)})")
    return field_map


@app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    inputs: Annotated[list[str], typer.Argument(help="Files, folders or http(s) URLs")],
    sync: Annotated[
        bool, typer.Option("--sync", help="Also remove articles whose files are gone from DIR")
    ] = False,
    include: Annotated[
        list[str] | None, typer.Option(help="Glob of files to take from folders (repeatable)")
    ] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glob of files to skip")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(help="JSON field map, ours=theirs, e.g. body=maintext (repeatable)"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Add or update articles. Unchanged ones are skipped; a re-run after a crash finishes."""
    from ingest import ingest  # the pipeline loads the models: only when a command needs it

    field_map = parse_field_map(field or [])
    settings = rag.load_settings(**ctx.obj)
    progress_bar = IngestProgress() if not quiet and sys.stderr.isatty() else None
    try:
        with progress_bar or contextlib.nullcontext():
            summary = ingest(
                inputs,
                settings,
                sync=sync,
                include=include or (),
                exclude=exclude or (),
                field_map=field_map,
                on_progress=progress_bar.update if progress_bar else None,
                on_failure=lambda line: err.print(f"[red]failed:[/] {line}", highlight=False),
            )
    except KeyboardInterrupt:
        err.print("interrupted: the library is consistent; run the same command to finish")
        raise typer.Exit(INTERRUPTED) from None
    if as_json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        for note in summary.notes:
            err.print(f"[yellow]note:[/] {note}", highlight=False)
        out.print(summary.line(), highlight=False)
    raise typer.Exit(0 if summary.ok else 1)


class IngestProgress:
    """A rich progress line with articles/s and chunks/s."""

    def __init__(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.fields[articles]} articles ({task.fields[article_rate]}/s)"),
            TextColumn("{task.fields[chunks]} chunks ({task.fields[chunk_rate]}/s)"),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[current]}"),
            console=err,
            transient=True,
        )
        self.task = self.progress.add_task(
            "ingest", total=None, articles=0, chunks=0, article_rate="-", chunk_rate="-", current=""
        )

    def __enter__(self) -> IngestProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, state: Progress) -> None:
        elapsed = max(state.elapsed, 1e-6)
        self.progress.update(
            self.task,
            articles=state.articles,
            chunks=state.chunks,
            article_rate=f"{state.articles / elapsed:.1f}",
            chunk_rate=f"{state.chunks / elapsed:.1f}",
            current=Path(state.current).name if state.current else "",
        )
