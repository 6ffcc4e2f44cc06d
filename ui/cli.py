"""``newsrag ui``: start the chat window."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import rag

app = typer.Typer()
err = Console(stderr=True)


class ListenError(rag.NewsragError, OSError):
    """The address can't be listened on (taken, or not this machine's)."""


@app.command()
def ui(
    ctx: typer.Context,
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
    from ui.server import check_bind, launch, prepare_library, read_auth  # gradio: seconds

    settings = rag.load_settings(**ctx.obj)
    credentials = read_auth(auth, auth_file)
    check_bind(host, credentials, insecure_no_auth)
    try:
        prepare_library(settings, seed, say=lambda line: err.print(line, highlight=False))
        launch(settings, host=host, port=port, credentials=credentials)
    except OSError as error:  # e.g. the port is taken
        raise ListenError(f"can't listen on {host}:{port}: {error}") from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
