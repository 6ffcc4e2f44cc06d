"""``newsrag eval``: score the system against gold answers, side by side per configuration."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from eval import SAMPLE_QUESTIONS

INTERRUPTED = 130  # the shell's status for a process stopped by Ctrl-C (128 + SIGINT)
REPORT_WIDTH = 220  # columns: the summary table is wide, and a pipe has no terminal width

app = typer.Typer()
err = Console(stderr=True, soft_wrap=True)  # a log line stays one line, however long its path


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
    conversations: Annotated[
        Path | None,
        typer.Option(help="Score two-turn conversations instead (`newsrag make-conversations`)"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Score the system against gold answers; write report.json, report.md and plots."""
    if conversations is not None:
        _eval_conversations(ctx, conversations, corpus or [], config or ["default"], out, quiet)
        return

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


def _eval_conversations(
    ctx: typer.Context, path: Path, corpus: list[Path], configs: list[str], out: Path, quiet: bool
) -> None:
    """``newsrag eval --conversations``: each follow-up against its standalone question."""
    import rag
    from eval.conversations import run_conversations
    from eval.errors import EvalError
    from eval.runner import BASELINE, Config, corpus_library, default_cache

    parsed = [Config.parse(c) for c in configs]
    if any(c.name == BASELINE for c in parsed):
        raise EvalError("--config baseline: the naive pipeline has no conversations to score")
    settings = rag.load_settings(data_dir=ctx.obj.get("data_dir"))
    library = corpus_library(corpus, settings, default_cache()) if corpus else settings.data_dir
    show = not quiet and sys.stderr.isatty()
    with Progress(console=err, transient=True, disable=not show) as progress:
        task = progress.add_task("conversations", total=None)
        report = run_conversations(
            path, library, [(c.name, c.overrides) for c in parsed], out=out,
            on_progress=lambda name, done, total: progress.update(
                task, description=name, completed=done, total=total
            ),
        )  # fmt: skip
    table = Table("config", "kind", "n", "standalone right", "follow-up right", "as well",
                  "kept of answered", "repeated", header_style="bold")  # fmt: skip
    for name, result in report.items():
        for kind, figures in [("all", result["summary"]), *result["by_kind"].items()]:
            table.add_row(
                name, kind, str(figures["conversations"]),
                *(f"{figures[k]:.3f}" for k in ("standalone_right", "follow_up_right", "as_well",
                                                "kept_of_answered", "repeated")),
            )  # fmt: skip
    Console(width=REPORT_WIDTH).print(table)
    Console(width=REPORT_WIDTH).print(f"report: {out / 'conversations.json'}")


@app.command("make-conversations")
def make_conversations_command(
    questions: Annotated[Path, typer.Option(help="Gold questions (JSONL) to build them from")],
    out: Annotated[Path, typer.Option(help="Where the conversations go (JSONL)")],
    count: Annotated[int, typer.Option(help="How many (half pronoun, half 'what about')")] = 60,
) -> None:
    """Build two-turn conversations from gold questions (for `newsrag eval --conversations`)."""
    from eval.conversations import build_conversations, write_conversations
    from eval.dataset import load_questions

    made = build_conversations(load_questions(questions), count)
    write_conversations(made, out)
    kinds = {kind: sum(c.kind == kind for c in made) for kind in sorted({c.kind for c in made})}
    typer.echo(f"{len(made)} conversations ({kinds}) -> {out}")


@app.command("train-reader")
def train_reader_command(
    train: Annotated[Path, typer.Option(help="Train set folder: questions.jsonl, corpus.jsonl")],
    dev: Annotated[Path, typer.Option(help="Dev set folder (calibrates the refusal threshold)")],
    train_corpus: Annotated[
        list[Path] | None, typer.Option(help="More articles for the train library (a 2nd year)")
    ] = None,
    dev_corpus: Annotated[
        list[Path] | None, typer.Option(help="More articles for the dev library (distractors)")
    ] = None,
    check: Annotated[
        list[Path] | None,
        typer.Option(help="Quiz folder(s) asked over the train library: refusals must hold too"),
    ] = None,
    cross_encoder: Annotated[
        Path | None,
        typer.Option(help="Cross-encoder weights whose reading the reader weighs (beside --out)"),
    ] = None,
    cross_encoder_corpus: Annotated[
        list[Path] | None,
        typer.Option(
            help="Train the cross-encoder first, to --cross-encoder (resumable): its quiz pairs "
            "from --train, its self-supervised questions from these corpus files, scored on "
            "the first --check set as it goes"
        ),
    ] = None,
    cross_encoder_steps: Annotated[
        int | None, typer.Option(help="Stop the cross-encoder's training after this many steps")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where the model goes")] = Path("reader.json"),
    cache: Annotated[
        Path | None, typer.Option(help="Where the libraries are built (default: eval's cache)")
    ] = None,
) -> None:
    """Train the answer reader on quiz questions; calibrate its refusals on every library
    shape given (docs/reader.md). With --cross-encoder-corpus, the whole reader: the
    cross-encoder, its span head, then the logistic models over them."""
    from eval.errors import EvalError
    from eval.train_reader import check_destinations, check_sources, train_reader

    if cross_encoder_steps is not None and not cross_encoder_corpus:
        raise EvalError("--cross-encoder-steps: only with --cross-encoder-corpus (what it trains)")
    corpora = {
        "--train-corpus": train_corpus or (),
        "--dev-corpus": dev_corpus or (),
        "--cross-encoder-corpus": cross_encoder_corpus or (),
    }
    check_sources(train, dev, check or (), corpora)
    if cross_encoder_corpus:
        cross_encoder = cross_encoder or out.with_name("cross_encoder.safetensors")
        check_destinations(out, cross_encoder)
        _train_cross_encoder(
            quiz=[train], corpora=cross_encoder_corpus, out=cross_encoder,
            work=cache / "cross-encoder" if cache else _cross_encoder_work(),
            held_out=check[0] if check else None, max_steps=cross_encoder_steps,
        )  # fmt: skip
    with _progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

        def on_progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done)

        try:
            report = train_reader(
                train, dev, train_corpus=train_corpus or (), dev_corpus=dev_corpus or (),
                check=check or (), cross_encoder=cross_encoder, out=out, cache_dir=cache,
                progress=bar.console.print, on_progress=on_progress,
            )  # fmt: skip
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


def _progress_bar() -> Progress:
    """What long training shows on stderr: each stage's bar, count and time left."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=err,
    )  # fmt: skip


@app.command("train-cross-encoder")
def train_cross_encoder_command(
    quiz: Annotated[
        list[Path], typer.Option(help="Quiz set folder(s): questions.jsonl, corpus.jsonl")
    ],
    corpus: Annotated[
        list[Path] | None, typer.Option(help="Corpus JSONL file(s) for self-supervised questions")
    ] = None,
    held_out: Annotated[
        Path | None, typer.Option(help="Quiz set folder scored as training goes (another year)")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where the weights go (.safetensors)")] = Path(
        "cross_encoder.safetensors"
    ),
    work: Annotated[
        Path | None, typer.Option(help="Pairs and checkpoints (default: eval's cache)")
    ] = None,
    cloze: Annotated[int, typer.Option(help="Self-supervised questions to make")] = 4500,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many steps")] = None,
    lora: Annotated[
        bool, typer.Option(help="LoRA adapters on every layer, not the top two layers whole")
    ] = False,
    span_head_only: Annotated[
        bool, typer.Option(help="Only fit the span head, over the weights already at --out")
    ] = False,
    span_loss: Annotated[
        float | None,
        typer.Option(help="Weight of the span loss beside the sentence loss (0: none)", min=0),
    ] = None,
) -> None:
    """Fine-tune MiniLM into the question-sentence cross-encoder (docs/reader.md). Resumable:
    run the same command again after an interruption. (`newsrag train-reader
    --cross-encoder-corpus` trains it and the reader over it in one command.)"""
    from eval.train_cross_encoder import SPAN_LOSS_WEIGHT

    _train_cross_encoder(
        quiz=quiz, corpora=corpus or [], out=out, work=work or _cross_encoder_work(),
        held_out=held_out, cloze_questions=cloze, max_steps=max_steps, lora=lora,
        span_head_only=span_head_only,
        span_loss=SPAN_LOSS_WEIGHT if span_loss is None else span_loss,
    )  # fmt: skip


def _cross_encoder_work() -> Path:
    """Where the cross-encoder's pairs and checkpoints go by default: beside eval's cache."""
    from eval.runner import default_cache

    return default_cache().parent / "cross-encoder"


def _train_cross_encoder(
    *, out: Path, work: Path, span_head_only: bool = False, **arguments: Any
) -> None:
    """Run ``eval.train_cross_encoder.train_cross_encoder`` under a progress bar; print what
    it measured."""
    from eval.train_cross_encoder import train_cross_encoder

    with _progress_bar() as bar:
        # (no steps when only the span head is fitted)
        task = bar.add_task("cross-encoder steps", total=None, visible=not span_head_only)

        def on_step(step: int, steps: int, seconds_per_step: float) -> None:
            bar.update(task, completed=step, total=steps)

        try:
            run = train_cross_encoder(
                out=out, work=work, span_head_only=span_head_only, **arguments,
                progress=bar.console.print, on_step=on_step,
                command=shlex.join(["newsrag", *sys.argv[1:]]),
            )  # fmt: skip
        except KeyboardInterrupt:
            err.print(f"interrupted: checkpoints are in {work}; run the same command to resume")
            raise typer.Exit(INTERRUPTED) from None
    table = Table("metric", "value", header_style="bold")
    for metric, value in run.metrics.items():
        table.add_row(metric, f"{value:.3f}")
    for point in run.curve:
        label = f"held-out top-1 after {point['pairs']:.0f} pairs"
        table.add_row(label, f"{point['accuracy']:.3f}")
    Console().print(table)
    if span_head_only:
        typer.echo(f"span head fitted over the encoder at {out}")
    else:
        typer.echo(f"{run.steps} steps over {sum(run.pairs.values())} pairs; weights: {out}")
