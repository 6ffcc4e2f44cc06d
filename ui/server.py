"""Starting the app safely: bind and auth rules, first-start seeding, queue and upload limits."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rag
from ingest import SAMPLE_LIBRARY, ingest
from rag import NewsragError, Settings
from ui.app import build_app, launch_options

LOCAL_HOSTS = {"localhost"}
# Questions run this many at a time: one per core here (each is CPU-bound in the model).
QUESTIONS_AT_ONCE = 2
QUEUE_LIMIT = 256  # requests waiting beyond this are turned away at once, not left to time out


class LaunchError(NewsragError, ValueError):
    """A launch option that is unsafe or malformed; the message says which and why."""


def is_local(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_auth(auth: str | None, auth_file: Path | None) -> list[tuple[str, str]]:
    """``USER:PASS`` and/or a file of such lines (blank lines and ``#`` comments skipped)."""
    pairs: list[tuple[str, str]] = []
    entries: list[tuple[str, str]] = []
    if auth:
        entries.append(("--auth", auth))
    if auth_file is not None:
        try:
            text = Path(auth_file).read_text(encoding="utf-8")
        except OSError as error:
            raise LaunchError(f"--auth-file {auth_file}: {error.strerror or error}") from None
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                entries.append((f"{auth_file}:{number}", line.strip()))
        if not entries or entries[-1][0] == "--auth":
            raise LaunchError(f"--auth-file {auth_file}: no USER:PASS lines")
    for where, entry in entries:
        user, sep, password = entry.partition(":")
        if not sep or not user or not password:
            raise LaunchError(f"{where}: expected USER:PASS with both parts non-empty")
        pairs.append((user, password))
    return pairs


def check_bind(host: str, credentials: list[tuple[str, str]], insecure_no_auth: bool) -> None:
    if not is_local(host) and not credentials and not insecure_no_auth:
        raise LaunchError(
            f"--host {host} makes the library reachable from other machines; add --auth USER:PASS "
            "or --auth-file F (or --insecure-no-auth if you really mean it)"
        )


def prepare_library(
    settings: Settings, seed: Path | None, say: Callable[[str], None] = print
) -> None:
    """Create the library if missing; fill an empty one from ``seed`` (default: the sample).

    A library whose files exist but can't be read raises (``rag.DamagedLibrary`` names the
    file) before anything is seeded: an unreadable library is never mistaken for an empty one.
    One with feed subscriptions is about to be filled by them: no sample articles among them.
    """
    library = rag.open_library(settings, create=True)
    try:
        empty = library.stats()["articles"] == 0 and not library.subscriptions.all()
        read_only = library.read_only
    finally:
        library.close()
    seed = seed or (SAMPLE_LIBRARY if SAMPLE_LIBRARY.is_dir() else None)
    if empty and read_only:
        say(f"The library at {settings.data_dir} is empty and read-only: nothing to answer from.")
    elif empty and seed is not None:
        say(f"The library is empty: adding the articles in {seed} ...")
        summary = ingest([str(seed)], settings)
        say(summary.line())


def build(settings: Settings) -> Any:
    """The app, with its engine loaded and the queue configured (not yet listening)."""
    engine = rag.open_engine(settings=settings)
    app = build_app(settings, engine)
    # Writes to the library run one at a time (their own concurrency id, in ui.app).
    app.queue(default_concurrency_limit=QUESTIONS_AT_ONCE, max_size=QUEUE_LIMIT)
    return app


def launch(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    credentials: list[tuple[str, str]] | None = None,
    block: bool = True,
    quiet: bool = False,
) -> tuple[Any, str]:
    """Serve the app; returns (app, local URL). ``block=False`` returns once it listens."""
    app = build(settings)
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        auth=credentials or None,
        auth_message="newsrag: sign in to ask questions about this library",
        max_file_size=int(settings.max_file_mb * 1024 * 1024),  # bytes: Gradio refuses more
        share=False,
        show_error=True,
        prevent_thread_lock=True,
        quiet=True,  # Gradio's own banner suggests share=True; we never share
        ssr_mode=False,
        **launch_options(),
    )
    if not quiet:
        print(f"newsrag is running at {url}  (Ctrl-C stops it)", flush=True)
    if block:
        app.block_thread()
    return app, url
