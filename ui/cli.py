"""``newsrag ui``: start the chat window; Ctrl-C or SIGTERM stop it within about 2 s.

Gradio's own shutdown waits up to 5 s for its server thread, then the interpreter waits for
every worker thread still answering (minutes for an LLM answer on a loaded machine). Here a
signal sets an event; the server gets ``SHUTDOWN_GRACE_S`` to close, the atexit cleanups
``CLEANUP_GRACE_S``, then the process leaves without waiting for anything still running. That
is safe: library writes are journaled (a write cut short is rolled back on the next open), and
nothing else holds state.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import ingest
import rag

app = typer.Typer()
err = Console(stderr=True, soft_wrap=True)  # a log line stays one line, however long its path


SHUTDOWN_GRACE_S = 1.0  # for the server to close (measured: 0.1-0.2 s when idle)
# For cleanups registered with atexit (a read-only library's temporary copy, Gradio's temporary
# files), run explicitly because the process then leaves without the interpreter's teardown;
# atexit has no public "run them now", hence its private _run_exitfuncs (measured: 0.06 s).
CLEANUP_GRACE_S = 0.5


class ListenError(rag.NewsragError, OSError):
    """The address can't be listened on (taken, or not this machine's)."""


def serve_until_stopped(app, watcher=None) -> None:
    """Block until SIGINT or SIGTERM, then stop ``app`` (and the feed poller) in bounded time
    (see module doc)."""
    ingest.wait_for_stop_signal()
    err.print("stopping…", highlight=False)
    steps = [(app.close, SHUTDOWN_GRACE_S), (atexit._run_exitfuncs, CLEANUP_GRACE_S)]
    if watcher is not None:  # a check in flight ends after its batch, or is cut (journaled)
        steps.insert(0, (lambda: watcher.stop(grace_s=SHUTDOWN_GRACE_S), SHUTDOWN_GRACE_S))
    for step, grace in steps:
        worker = threading.Thread(target=step, daemon=True)
        worker.start()
        worker.join(grace)
    sys.stdout.flush()
    sys.stderr.flush()
    # Not the interpreter's own teardown: freeing the models takes 2-3 s, and it would wait for
    # any worker thread still answering.
    os._exit(0)


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
    watch: Annotated[
        bool, typer.Option("--watch", help="Also poll the feed subscriptions (`newsrag watch`)")
    ] = False,
) -> None:
    """Start the chat window in the browser (Ctrl-C stops it)."""
    from ui.server import check_bind, launch, prepare_library, read_auth  # gradio: seconds

    settings = rag.load_settings(**ctx.obj)
    credentials = read_auth(auth, auth_file)
    check_bind(host, credentials, insecure_no_auth)
    try:
        prepare_library(settings, seed, say=lambda line: err.print(line, highlight=False))
        watcher = None
        if watch:  # first: a second poller of this library is refused before the window opens
            from ingest import Watcher

            say = lambda outcome: err.print(outcome.line(), highlight=False)  # noqa: E731
            watcher = Watcher(settings, on_check=say).start()
            err.print("polling the feed subscriptions (Library tab, Feeds)", highlight=False)
        running, _ = launch(settings, host=host, port=port, credentials=credentials, block=False)
        serve_until_stopped(running, watcher)
    except OSError as error:  # e.g. the port is taken
        raise ListenError(f"can't listen on {host}:{port}: {error}") from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
