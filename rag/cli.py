"""The ``newsrag`` command: thin over the public APIs of ``rag`` and ``ingest``.

Heavy imports (models, Chroma, the UI) happen inside the subcommands, so ``newsrag --help``
is instant. ``ingest``/``ui``/``eval`` are imported lazily here: the one allowed exception to
"rag never imports upward".
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rag import offline as _offline  # noqa: F401
from rag.settings import Settings, load_settings

app = typer.Typer(
    name="newsrag",
    help="Ask questions about a library of news articles; answers cite their sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)  # pipes get whole lines, not 80-column hard wraps
err = Console(stderr=True)


class State:
    overrides: dict[str, Any] = {}  # noqa: RUF012  (one CLI invocation, one state)

    @classmethod
    def settings(cls, **more: Any) -> Settings:
        from pydantic import ValidationError

        try:
            return load_settings(**cls.overrides, **more)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()
            )
            fail(f"invalid settings: {problems}")


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.callback()
def main_options(
    data_dir: Annotated[
        Path | None, typer.Option(help="Library folder [env NEWSRAG_DATA_DIR]", show_default=False)
    ] = None,
    chroma_url: Annotated[
        str | None, typer.Option(help="Use a Chroma server, e.g. http://127.0.0.1:8000")
    ] = None,
    collection: Annotated[str | None, typer.Option(help="Chroma collection name")] = None,
    embed_model: Annotated[
        str | None, typer.Option(help="Local sentence-transformers folder (default: bundled)")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Settings file (default ./newsrag.toml)", exists=True)
    ] = None,
) -> None:
    """Options here apply to every command and beat env vars and newsrag.toml."""
    if config is not None:
        os.environ["NEWSRAG_CONFIG"] = str(config)
    State.overrides = {
        "data_dir": data_dir,
        "chroma_url": chroma_url,
        "collection": collection,
        "embed_model": embed_model,
    }


def open_existing_library():
    from rag.store import Library, LibraryError

    settings = State.settings()
    try:
        return Library(settings, create=False)
    except LibraryError as error:
        fail(str(error))


# ---------------------------------------------------------------------------------- ingest
@app.command()
def ingest(
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
    from ingest import ingest as run_ingest
    from rag.store import LibraryError

    field_map = {}
    for item in field or []:
        ours, sep, theirs = item.partition("=")
        if not sep or not ours or not theirs:
            fail(f"--field {item!r}: expected ours=theirs, e.g. body=maintext")
        field_map[ours.strip()] = theirs.strip()
    unknown = set(field_map) - {"id", "title", "body", "url", "source", "author", "published"}
    if unknown:
        fail(f"--field: unknown field {sorted(unknown)[0]!r} (id, title, body, url, source, "
             "author, published)")  # fmt: skip

    settings = State.settings()
    show_progress = not quiet and sys.stderr.isatty()
    progress_bar = _IngestProgress() if show_progress else None
    try:
        with progress_bar or _nothing():
            summary = run_ingest(
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
        raise typer.Exit(130) from None
    except LibraryError as error:
        fail(str(error))
    if as_json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        for note in summary.notes:
            err.print(f"[yellow]note:[/] {note}", highlight=False)
        out.print(summary.line(), highlight=False)
    raise typer.Exit(0 if summary.ok else 1)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class _IngestProgress:
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

    def __enter__(self) -> _IngestProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, state: Any) -> None:
        elapsed = max(state.elapsed, 1e-6)
        self.progress.update(
            self.task,
            articles=state.articles,
            chunks=state.chunks,
            article_rate=f"{state.articles / elapsed:.1f}",
            chunk_rate=f"{state.chunks / elapsed:.1f}",
            current=Path(state.current).name if state.current else "",
        )


# ---------------------------------------------------------------------------------- ask
@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in quotes")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Answer as of this day (YYYY-MM-DD)")
    ] = None,
    source: Annotated[
        list[str] | None, typer.Option(help="Only these sources (repeatable)")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Published on or after (YYYY-MM-DD)")] = None,
    until: Annotated[str | None, typer.Option(help="Published on or before (YYYY-MM-DD)")] = None,
    answerer: Annotated[
        str | None, typer.Option(help="extractive (default) or llm", show_default=False)
    ] = None,
    llm_base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server for --answerer llm")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON")] = False,
) -> None:
    """Ask a question; the answer cites the exact sentences it comes from."""
    from rag.engine import QueryError, open_engine
    from rag.store import LibraryError

    extra = {"llm_base_url": llm_base_url, "llm_backend": "openai" if llm_base_url else None}
    try:
        engine = open_engine(**State.overrides, **{k: v for k, v in extra.items() if v})
        answer = engine.ask(
            question, as_of=as_of, sources=source, since=since, until=until, answerer=answerer
        )
    except (QueryError, LibraryError) as error:
        fail(str(error))
    if as_json:
        print(answer.to_json())
        return
    style = "yellow" if answer.refused else "bold"
    out.print(answer.text, style=style, highlight=False, markup=False)
    if answer.short_answer:
        out.print(f"[dim]short answer:[/] {answer.short_answer}", highlight=False)
    for citation in answer.citations:
        _print_source(citation.n, citation.title, citation.source, citation.published_date,
                      citation.url, citation.quote)  # fmt: skip
    if answer.refused and answer.closest:
        out.print("\n[dim]These come closest:[/]")
        for number, passage in enumerate(answer.closest, 1):
            _print_source(number, passage.title, passage.source, passage.published_date,
                          passage.url, None)  # fmt: skip


def _print_source(n, title, source, published, url, quote) -> None:
    date = published.isoformat() if published else "date unknown"
    out.print(f"\n[bold][{n}][/] {title}", highlight=False, markup=True, soft_wrap=True)
    out.print(f"    {source or 'source unknown'} · {date}" + (f" · {url}" if url else ""),
              style="dim", highlight=False, markup=False)  # fmt: skip
    if quote:
        out.print(f"    “{quote}”", highlight=False, markup=False)


# ---------------------------------------------------------------------------------- eval
@app.command("eval")
def eval_command(
    questions: Annotated[
        Path, typer.Option(help="Gold questions (JSONL; see docs/eval.md)")
    ] = Path("eval/gold/sample.jsonl"),
    corpus: Annotated[
        list[Path] | None, typer.Option(help="Build a library from these files (cached)")
    ] = None,
    config: Annotated[
        list[str] | None, typer.Option(help="NAME or NAME:key=value,... (repeatable)")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="First N questions only")] = None,
    out: Annotated[Path, typer.Option(help="Report folder")] = Path("eval-report"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Score the system against gold answers; write report.json, report.md and plots."""
    from rich.progress import Progress

    from eval import EvalError, run_eval
    from eval.dataset import DatasetError
    from eval.report import HEADLINE, summary_rows
    from rag.engine import QueryError
    from rag.store import LibraryError

    configs = config or ["baseline", "default"]
    if State.overrides.get("data_dir") is None and not corpus:
        sample = Path("data/sample")
        if questions == Path("eval/gold/sample.jsonl") and sample.is_dir():
            corpus = [sample]  # the shipped gold set is about the shipped sample library
    show = not quiet and sys.stderr.isatty()
    try:
        with Progress(console=err, transient=True, disable=not show) as progress:
            task = progress.add_task("eval", total=None)

            def tick(name: str, done: int, total: int) -> None:
                progress.update(task, description=f"{name}", completed=done, total=total)

            report = run_eval(
                questions, corpus=corpus or (), configs=configs, limit=limit, out=out,
                data_dir=State.overrides.get("data_dir"), on_progress=tick,
            )  # fmt: skip
    except (EvalError, DatasetError, QueryError, LibraryError) as error:
        fail(str(error))
    except KeyboardInterrupt:
        err.print("interrupted: answers so far are cached; run the same command to resume")
        raise typer.Exit(130) from None
    table = Table("config", *[label for _, label, _ in HEADLINE], header_style="bold")
    for row in summary_rows(report):
        table.add_row(*row)
    out.mkdir(exist_ok=True)
    out_console = Console(width=220)
    out_console.print(table)
    out.joinpath("summary.txt").write_text(
        "\n".join(" | ".join(row) for row in summary_rows(report)) + "\n"
    )
    out_console.print(f"report: {out / 'report.md'}")


# ---------------------------------------------------------------------------------- library
@app.command("list")
def list_articles(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines for scripts")] = False,
) -> None:
    """Articles in the library: id, title, source, date, chunks."""
    with open_existing_library() as library:
        articles = library.articles()
    if as_json:
        rows = [
            {
                "id": a.id,
                "title": a.title,
                "source": a.source,
                "published_date": a.published_date.isoformat() if a.published_date else None,
                "chunks": a.chunk_count,
                "url": a.url,
            }
            for a in articles
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table("id", "title", "source", "date", "chunks", header_style="bold")
    for a in articles:
        table.add_row(
            a.id,
            a.title,
            a.source or "unknown",
            a.published_date.isoformat() if a.published_date else "unknown",
            str(a.chunk_count),
        )
    out.print(table)


@app.command()
def show(article: Annotated[str, typer.Argument(help="Id, id prefix, URL or record id")]) -> None:
    """Metadata and cleaned text of one article."""
    with open_existing_library() as library:
        found = library.resolve(article)
    if found is None:
        fail(f"no article {article!r} in the library (see `newsrag list`)", code=1)
    date = found.published_date.isoformat() if found.published_date else "unknown"
    for label, value in [
        ("id", found.id),
        ("title", found.title),
        ("source", found.source or "unknown"),
        ("author", found.author or "unknown"),
        ("published", date),
        ("url", found.url or "-"),
        ("origin", found.origin or "-"),
        ("ingested", found.ingested_at),
        ("chunks", found.chunk_count),
        ("content hash", found.content_hash),
    ]:
        out.print(f"[bold]{label:>12}[/]: {value}", highlight=False)
    for note in found.notes:
        out.print(f"[bold]{'note':>12}[/]: {note}", highlight=False)
    out.print()
    out.print(found.body, highlight=False, markup=False)


@app.command()
def delete(articles: Annotated[list[str], typer.Argument(help="Ids (or prefixes, URLs)")]) -> None:
    """Remove articles and their vectors."""
    from rag import delete_articles

    with open_existing_library() as library:
        resolved, missing = [], []
        for key in articles:
            found = library.resolve(key)
            (resolved.append(found.id) if found else missing.append(key))
        removed = delete_articles(library, resolved)
    for key in missing:
        err.print(f"[red]not found:[/] {key}", highlight=False)
    out.print(f"removed {len(removed)}")
    raise typer.Exit(1 if missing else 0)


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Also verify that docstore and Chroma agree")
    ] = False,
) -> None:
    """Library summary: articles, chunks, sources, date range."""
    with open_existing_library() as library:
        summary = library.stats()
        if check:
            summary["problems"] = library.check()
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    table = Table(show_header=False, box=None)
    for key, value in summary.items():
        shown = "none" if key == "problems" and not value else value
        table.add_row(f"[bold]{key}[/]", str(shown if shown is not None else "unknown"))
    out.print(table)
    if check and summary["problems"]:
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------- ui
@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 7860,
    auth: Annotated[
        str | None, typer.Option(help="USER:PASS required to use the app", show_default=False)
    ] = None,
    auth_file: Annotated[
        Path | None, typer.Option(help="File of USER:PASS lines", show_default=False)
    ] = None,
    insecure_no_auth: Annotated[
        bool, typer.Option("--insecure-no-auth", help="Allow a non-local --host without auth")
    ] = False,
    seed: Annotated[
        Path | None,
        typer.Option(help="Articles to add when the library is empty (default: data/sample)"),
    ] = None,
) -> None:
    """Start the chat window in the browser (Ctrl-C stops it)."""
    from rag.store import LibraryError
    from ui import LaunchError, check_bind, launch, prepare_library, read_auth

    settings = State.settings()
    try:
        credentials = read_auth(auth, auth_file)
        check_bind(host, credentials, insecure_no_auth)
        prepare_library(settings, seed, say=lambda line: err.print(line, highlight=False))
        launch(settings, host=host, port=port, credentials=credentials)
    except (LaunchError, LibraryError) as error:
        fail(str(error))
    except OSError as error:  # e.g. the port is taken
        fail(f"can't listen on {host}:{port}: {error}")
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def main() -> None:
    app()


if __name__ == "__main__":
    main()
