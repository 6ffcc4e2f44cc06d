"""``newsrag``: wires the commands of each package into one command line.

The commands live beside what they drive: ``ingest`` in ``ingest/cli.py``, ``ui`` in
``ui/cli.py``, ``eval`` in ``eval/cli.py``, and the library's own (``ask``, ``list``, ``show``,
``delete``, ``stats``) in ``newsrag/library.py``. The options here apply to all of them: they
reach each command as ``ctx.obj``, the settings overrides for ``rag.load_settings``.

Every error a user can cause is a ``rag.NewsragError`` whose message names the bad input: it
is printed here as one line, with exit status 2, never as a traceback. Heavy imports (models,
Chroma, gradio) happen inside the commands, so ``newsrag --help`` is instant.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from eval.cli import app as eval_commands
from ingest.cli import app as ingest_commands
from newsrag.library import app as library_commands
from rag import NewsragError
from ui.cli import app as ui_commands

USAGE_ERROR = 2  # click's status for a bad command line; bad input is one too

app = typer.Typer(
    name="newsrag",
    help="Ask questions about a library of news articles; answers cite their sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for commands in (ingest_commands, library_commands, eval_commands, ui_commands):
    app.add_typer(commands)


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Library folder \\[env NEWSRAG_DATA_DIR]", show_default=False),
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
    ctx.obj = {  # None = not given: rag.load_settings drops it
        "data_dir": data_dir,
        "chroma_url": chroma_url,
        "collection": collection,
        "embed_model": embed_model,
    }


def optional_values(argv: list[str]) -> list[str]:
    """``--ray`` may stand alone (a local Ray runtime) or take an address; Typer options
    can't do both, so a bare ``--ray`` (last, before another option, or before an input
    that exists: an address never does) becomes ``--ray=local``."""
    fixed = []
    for position, token in enumerate(argv):
        following = argv[position + 1] if position + 1 < len(argv) else None
        bare = token == "--ray" and (
            following is None or following.startswith("-") or os.path.exists(following)
        )
        fixed.append("--ray=local" if bare else token)
    return fixed


def main() -> None:
    try:
        app(args=optional_values(sys.argv[1:]))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()
        )
        _fail(f"invalid settings: {problems}")
    except NewsragError as error:
        _fail(str(error))


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise SystemExit(USAGE_ERROR)


if __name__ == "__main__":
    main()
