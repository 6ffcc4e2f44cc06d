"""The library's own commands: ``ask``; ``list``, ``show`` and ``delete`` articles; ``stats``;
``repair``; ``feedback``."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import rag

NOT_FOUND = 1  # `show`/`delete` of an article the library doesn't hold

app = typer.Typer()
out = Console(soft_wrap=True)  # pipes get whole lines, not 80-column hard wraps
err = Console(stderr=True)


@app.command()
def ask(
    ctx: typer.Context,
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
    all_dates: Annotated[
        bool, typer.Option("--all-dates", help="Ignore time words and --since/--until")
    ] = False,
    article: Annotated[
        str | None,
        typer.Option(help="Answer from every passage of this article alone (id, prefix, URL)"),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(help="Search as if the library did not hold this article (repeatable)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON")] = False,
) -> None:
    """Ask a question; the answer cites the exact sentences it comes from."""
    llm_server = {"llm_base_url": llm_base_url, "llm_backend": "openai"} if llm_base_url else {}
    settings = rag.load_settings(**ctx.obj, **llm_server)
    # A bad question or date is refused now, not after the models have loaded (seconds).
    rag.read_question(question, settings, as_of=as_of, since=since, until=until)
    engine = rag.open_engine(settings=settings)
    options = rag.AskOptions.build(
        as_of=as_of, sources=source, since=since, until=until, answerer=answerer,
        all_dates=all_dates, article=article, exclude=exclude,
    )  # fmt: skip
    answer = engine.ask(question, options)
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
        if citation.outlets:  # a syndicated story: stored once, carried by these too
            carried = ", ".join(f"{o.source or 'unknown'} ({o.url})" for o in citation.outlets)
            out.print(f"    also carried by: {carried}", style="dim", highlight=False,
                      markup=False)  # fmt: skip
    if answer.refused:
        out.print(f"[dim]searched: {answer.searched.describe()}[/]", highlight=False)
        if answer.searched.narrowed:
            out.print("[dim]to search every date and source: --all-dates, without --source[/]",
                      highlight=False)  # fmt: skip
        if not answer.closest:
            out.print("[dim]No article came close.[/]")
    if answer.refused and answer.closest:
        out.print("\n[dim]These come closest:[/]")
        for number, passage in enumerate(answer.closest, 1):
            _print_source(number, passage.title, passage.source, passage.published_date,
                          passage.url, None)  # fmt: skip
            if passage.article_id == answer.may_answer:
                out.print(f"    may answer it, read whole: --article {passage.article_id}",
                          style="dim", highlight=False, markup=False)  # fmt: skip


def _print_source(
    n: int, title: str, source: str | None, published: date | None, url: str | None,
    quote: str | None,
) -> None:  # fmt: skip
    day = published.isoformat() if published else "date unknown"
    out.print(f"\n[bold][{n}][/] {title}", highlight=False, markup=True, soft_wrap=True)
    out.print(f"    {source or 'source unknown'} · {day}" + (f" · {url}" if url else ""),
              style="dim", highlight=False, markup=False)  # fmt: skip
    if quote:
        out.print(f"    “{quote}”", highlight=False, markup=False)


def _open(ctx: typer.Context) -> rag.Library:
    """The library, after saying on stderr what is damaged (these commands read only the
    docstore, so they still work; `ask` and `ui` refuse)."""
    library = rag.open_library(rag.load_settings(**ctx.obj))
    warn_if_damaged(library)
    return library


def warn_if_damaged(library: rag.Library) -> None:
    for problem in library.damage():
        err.print(f"[bold yellow]warning:[/] {problem}", highlight=False, soft_wrap=True)


@app.command("list")
def list_articles(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines for scripts")] = False,
) -> None:
    """Articles in the library: id, title, source, date, chunks."""
    with _open(ctx) as library:
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
def show(
    ctx: typer.Context,
    article: Annotated[str, typer.Argument(help="Id, id prefix, URL or record id")],
) -> None:
    """Metadata and cleaned text of one article."""
    with _open(ctx) as library:
        found = library.resolve(article)
    if found is None:
        err.print(f"[bold red]error:[/] no article {article!r} in the library (see `newsrag "
                  "list`)", highlight=False, soft_wrap=True)  # fmt: skip
        raise typer.Exit(NOT_FOUND)
    published = found.published_date.isoformat() if found.published_date else "unknown"
    for label, value in [
        ("id", found.id),
        ("title", found.title),
        ("source", found.source or "unknown"),
        ("author", found.author or "unknown"),
        ("published", published),
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
def delete(
    ctx: typer.Context,
    articles: Annotated[list[str], typer.Argument(help="Ids (or prefixes, URLs)")],
) -> None:
    """Remove articles and their vectors."""
    with _open(ctx) as library:
        resolved, missing = [], []
        for key in articles:
            found = library.resolve(key)
            (resolved.append(found.id) if found else missing.append(key))
        removed = rag.delete_articles(library, resolved)
    for key in missing:
        err.print(f"[red]not found:[/] {key}", highlight=False)
    out.print(f"removed {len(removed)}")
    raise typer.Exit(NOT_FOUND if missing else 0)


@app.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Also verify that docstore and Chroma agree")
    ] = False,
) -> None:
    """Library summary: articles, chunks, sources, date range, damage."""
    with rag.open_library(rag.load_settings(**ctx.obj)) as library:
        summary = library.stats()
        summary["read_only"] = library.read_only
        summary["damage"] = library.damage()
        if check:
            summary["problems"] = library.check()
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    table = Table(show_header=False, box=None)
    for key, value in summary.items():
        shown = "none" if key in ("problems", "damage") and not value else value
        table.add_row(f"[bold]{key}[/]", str(shown if shown is not None else "unknown"))
    out.print(table)
    if summary["damage"] or (check and summary["problems"]):
        raise typer.Exit(1)


@app.command()
def feedback(ctx: typer.Context) -> None:
    """Thumbs up/down given in the chat window, as JSON lines (question, as_of, answer, cited
    article ids, helpful): the unhelpful ones are the eval's next cases."""
    with _open(ctx) as library:
        for row in library.feedback():
            print(json.dumps(row, ensure_ascii=False))


@app.command()
def repair(ctx: typer.Context) -> None:
    """Rebuild the vectors and keyword index from the article texts (resumable)."""
    settings = rag.load_settings(**ctx.obj)
    with rag.open_library(settings) as library:
        before = library.damage()
        for problem in before:
            err.print(f"found: {problem}", highlight=False, soft_wrap=True)

        def progress(done: int, total: int) -> None:
            err.print(f"restored {done}/{total} vectors", highlight=False)

        report = rag.repair_library(library, settings, on_progress=progress)
        left = library.damage() + library.check()
    out.print(report.line(), highlight=False)
    for problem in left:
        err.print(f"[bold red]still wrong:[/] {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(1 if left else 0)


@app.command()
def digest(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option(help="Period: 24h, 3d, 2w, or a first day (YYYY-MM-DD)")
    ] = "24h",
    source: Annotated[
        list[str] | None, typer.Option(help="Only stories this source carried (repeatable)")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The period ends on this day (default: today)")
    ] = None,
    limit: Annotated[int, typer.Option(help="Stories to list", min=1)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """What's new: the most covered stories of the period, each with its lead sentence."""
    try:
        today = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise rag.DigestError(f"--as-of {as_of!r}: expected a date (YYYY-MM-DD)") from None
    first = rag.period_start(since, today)
    with _open(ctx) as library:
        stories = rag.most_covered(library, first, today, source or None, limit)
    if as_json:
        print(json.dumps([story.to_dict() for story in stories], indent=2))
        return
    if not stories:
        out.print(f"No articles published from {first} to {today}.", highlight=False)
        return
    out.print(f"[dim]Most covered stories, {first} to {today}:[/]")
    for number, story in enumerate(stories, 1):
        out.print(f"\n{number}. {story.headline}", style="bold", highlight=False, markup=False)
        out.print(f"    {story.coverage()}", style="dim", highlight=False, markup=False)
        lead = story.lead
        out.print(f"    “{lead.quote}” [1]", highlight=False, markup=False)
        out.print(f"    [1] {lead.title}" + (f" · {lead.url}" if lead.url else ""), style="dim",
                  highlight=False, markup=False)  # fmt: skip
