"""``newsrag eval``: score the system against gold answers, side by side per configuration."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from eval import SAMPLE_QUESTIONS

INTERRUPTED = 130  # the shell's status for a process stopped by Ctrl-C (128 + SIGINT)
REPORT_WIDTH = 220  # columns: the summary table is wide, and a pipe has no terminal width

app = typer.Typer()
err = Console(stderr=True)


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    questions: Annotated[
        Path, typer.Option(help="Gold questions (JSONL; see docs/eval.md)")
    ] = SAMPLE_QUESTIONS,
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

    from eval.report import HEADLINE, summary_rows
    from eval.runner import run_eval  # loads the engine: only when the command runs
    from ingest import SAMPLE_LIBRARY

    data_dir = ctx.obj.get("data_dir")
    about_the_sample = data_dir is None and not corpus and questions == SAMPLE_QUESTIONS
    if about_the_sample and SAMPLE_LIBRARY.is_dir():
        corpus = [SAMPLE_LIBRARY]  # the shipped gold set is about the shipped sample library
    show = not quiet and sys.stderr.isatty()
    try:
        with Progress(console=err, transient=True, disable=not show) as progress:
            task = progress.add_task("eval", total=None)

            def tick(name: str, done: int, total: int) -> None:
                progress.update(task, description=f"{name}", completed=done, total=total)

            report = run_eval(
                questions, corpus=corpus or (), configs=config or ["baseline", "default"],
                limit=limit, out=out, data_dir=data_dir, on_progress=tick,
            )  # fmt: skip
    except KeyboardInterrupt:
        err.print("interrupted: answers so far are cached; run the same command to resume")
        raise typer.Exit(INTERRUPTED) from None
    table = Table("config", *[label for _, label, _ in HEADLINE], header_style="bold")
    for row in summary_rows(report):
        table.add_row(*row)
    out.mkdir(exist_ok=True)
    out_console = Console(width=REPORT_WIDTH)
    out_console.print(table)
    out.joinpath("summary.txt").write_text(
        "\n".join(" | ".join(row) for row in summary_rows(report)) + "\n"
    )
    out_console.print(f"report: {out / 'report.md'}")


@app.command("train-reader")
def train_reader_command(
    train: Annotated[Path, typer.Option(help="Train set folder: questions.jsonl, corpus.jsonl")],
    dev: Annotated[Path, typer.Option(help="Dev set folder (calibrates the refusal threshold)")],
    dev_corpus: Annotated[
        list[Path] | None, typer.Option(help="More articles for the dev library (distractors)")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where the model goes")] = Path("reader.json"),
    cache: Annotated[
        Path | None, typer.Option(help="Where the libraries are built (default: eval's cache)")
    ] = None,
) -> None:
    """Train the answer reader on quiz questions; calibrate it on the dev set (docs/reader.md)."""
    from eval.train_reader import train_reader

    try:
        report = train_reader(
            train, dev, dev_corpus=dev_corpus or (), out=out, cache_dir=cache, progress=err.print
        )
    except KeyboardInterrupt:
        err.print("interrupted: the libraries built so far are cached; nothing was written")
        raise typer.Exit(INTERRUPTED) from None
    table = Table("set", "metric", "value", header_style="bold")
    for name, figures in report.metrics.items():
        for metric, value in figures.items():
            table.add_row(name, metric, f"{value:.3f}" if isinstance(value, float) else str(value))
    Console().print(table)
    typer.echo(
        f"refusal threshold {report.model.refusal_threshold:.3f}, short-answer threshold "
        f"{report.model.short_answer_threshold:.3f}; model: {out}"
    )
