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
err = Console(stderr=True, soft_wrap=True)  # a log line stays one line, however long its path


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
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            is_flag=False,
            flag_value="local",
            metavar="[ADDRESS]",
            help="Spread loading, chunking and embedding over Ray: alone, a local Ray runtime; "
            "or a cluster: auto, ray://HOST:10001, HOST:PORT (after the inputs, or --ray=ADDRESS)",
        ),
    ] = None,
) -> None:
    """Add or update articles. Unchanged ones are skipped; a re-run after a crash finishes."""
    from ingest import IngestOptions, ingest  # the pipeline loads the models: only when used

    field_map = parse_field_map(field or [])
    settings = rag.load_settings(**ctx.obj)
    progress_bar = IngestProgress() if not quiet and sys.stderr.isatty() else None
    options = IngestOptions(
        sync=sync, include=include or (), exclude=exclude or (), field_map=field_map,
        on_progress=progress_bar.update if progress_bar else None,
        on_failure=lambda line: err.print(f"[red]failed:[/] {line}", highlight=False),
    )  # fmt: skip
    try:
        with progress_bar or contextlib.nullcontext():
            if ray is None:
                summary = ingest(inputs, settings, options)
            else:
                from ingest.cluster import cluster_ingest

                summary = cluster_ingest(inputs, settings, ray, options)
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


feeds = typer.Typer(help="Feed subscriptions that keep the library current (see `watch`).")
app.add_typer(feeds, name="feeds")


@feeds.command("add")
def feeds_add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="An RSS or Atom feed's http(s) URL")],
    every: Annotated[
        str | None, typer.Option(help="How often to check it: 30s, 15m, 2h, 1d [default 15m]")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Source name for its articles (default: the feed's title)")
    ] = None,
) -> None:
    """Subscribe to a feed (checked once that it is one; nothing is ingested yet)."""
    from ingest.watch import subscribe

    settings = rag.load_settings(**ctx.obj)
    sub = subscribe(url, settings, every=every, source=source)
    out.print(
        f"subscribed to {sub.url} (every {sub.every_text}); `newsrag watch` keeps "
        "it current, `newsrag feeds check` polls it now",
        highlight=False,
    )


@feeds.command("list")
def feeds_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """The subscriptions with their health: last check, last new item, items, last error."""
    with rag.open_library(rag.load_settings(**ctx.obj)) as library:
        subscriptions = library.subscriptions.all()
    if as_json:
        print(json.dumps([sub.to_dict() for sub in subscriptions], indent=2))
        return
    if not subscriptions:
        out.print("no subscriptions (`newsrag feeds add URL`)")
        return
    for sub in subscriptions:  # a block per feed: URLs are too long for a table's column
        out.print(sub.url, highlight=False, markup=False)
        out.print(
            f"    {sub.source or '(feed title)'} · every {sub.every_text} · last checked "
            f"{sub.last_checked or 'never'} · last new item {sub.last_new_item or '-'} · "
            f"{sub.items_ingested} items · {sub.health}",
            highlight=False, markup=False, style="red" if sub.last_error else None,
        )  # fmt: skip


@feeds.command("remove")
def feeds_remove(ctx: typer.Context, url: Annotated[str, typer.Argument()]) -> None:
    """Unsubscribe (its articles stay in the library)."""
    with rag.open_library(rag.load_settings(**ctx.obj)) as library:
        library.subscriptions.remove(url)
    out.print(f"unsubscribed from {url}; its articles stay in the library", highlight=False)


@feeds.command("check")
def feeds_check(
    ctx: typer.Context,
    urls: Annotated[list[str] | None, typer.Argument(help="Feeds to check (default: all)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Poll feeds once, now, and ingest what is new."""
    from dataclasses import asdict

    from ingest.watch import check_now

    try:
        outcomes = check_now(rag.load_settings(**ctx.obj), urls or None)
    except KeyboardInterrupt:
        err.print("interrupted: the library is consistent; the next check finishes the job")
        raise typer.Exit(INTERRUPTED) from None
    if as_json:
        print(json.dumps([asdict(o) for o in outcomes], indent=2))
    else:
        for outcome in outcomes:
            out.print(outcome.line(), highlight=False)
    raise typer.Exit(1 if any(o.result == "failed" for o in outcomes) else 0)


@app.command("watch")
def watch_command(ctx: typer.Context) -> None:
    """Keep the library current: poll every subscription on its schedule until Ctrl-C."""
    import os

    from ingest.signals import wait_for_stop_signal
    from ingest.watch import Watcher

    settings = rag.load_settings(**ctx.obj)
    watcher = Watcher(settings, on_check=lambda o: out.print(o.line(), highlight=False))
    count = len(watcher.library.subscriptions.all())
    err.print(f"watching {count} feed(s) of {settings.data_dir}; Ctrl-C stops", highlight=False)
    watcher.start()
    wait_for_stop_signal()
    err.print("stopping: checks in flight end after their current batch", highlight=False)
    if not watcher.stop():
        err.print("stopped mid-check: the library is consistent; the next check finishes it")
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(INTERRUPTED)  # a fetch can't be interrupted; its thread would hold exit
    raise typer.Exit(0)
