"""How long `newsrag ui` takes to stop after Ctrl-C or SIGTERM: idle, with an open page's
event stream, and while an LLM answer is being generated. Target: within 2 s (issue #13).

    .venv/bin/python benchmarks/ui_stop.py [--runs 3]

Reference, measured in the same run: the same app stopped the way Gradio stops it on its own
(``block_thread``: KeyboardInterrupt, then its server close and the interpreter's teardown).
Prints figures and ratios; asserts nothing (machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag
from ingest import ingest
from tests.support import SAMPLE, subprocess_env
from tests.support.servers import free_port

# Gradio's own stop path, for the reference: launch and block until KeyboardInterrupt.
GRADIO_STOP = """
import sys, rag
from ui.server import launch
launch(rag.load_settings(data_dir=sys.argv[1]), port=int(sys.argv[2]), block=True, quiet=True)
"""


def start(command: list[str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=subprocess_env(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a shell's & ignores it
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit("the app did not start")


def busy(port: int, situation: str) -> None:
    """Put the app in ``situation`` before the signal."""
    if situation == "idle":
        return
    from gradio_client import Client

    client = Client(f"http://127.0.0.1:{port}/", verbose=False)  # holds the page's stream
    if situation == "answering":
        question = "Write everything the articles say about Iran, the U.S. and negotiations."
        threading.Thread(
            target=lambda: _quietly(client.predict, question, answerer="llm", api_name="/ask"),
            daemon=True,
        ).start()
        time.sleep(2)  # the model is generating


def _quietly(call, *args, **kwargs) -> None:
    with contextlib.suppress(Exception):  # the server went away mid-answer: expected
        call(*args, **kwargs)


def stop_seconds(command: list[str], port: int, situation: str, signal_number: int) -> float:
    process = start(command, port)
    busy(port, situation)
    started = time.monotonic()
    process.send_signal(signal_number)
    process.wait(600)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="newsrag-stop-")) / "lib"
    ingest([SAMPLE], rag.load_settings(data_dir=data_dir))
    print(
        f"{'situation':<10} {'signal':<7} {'newsrag ui (s)':>15} {'Gradio own (s)':>15} {'ratio':>6}"
    )
    for situation in ("idle", "page open", "answering"):
        for signal_number, name in ((signal.SIGINT, "INT"), (signal.SIGTERM, "TERM")):
            ours, theirs = [], []
            for _ in range(args.runs):
                port = free_port()
                command = [sys.executable, "-m", "newsrag", "--data-dir", str(data_dir), "ui",
                           "--port", str(port)]  # fmt: skip
                ours.append(stop_seconds(command, port, situation, signal_number))
                if signal_number == signal.SIGINT:  # Gradio's path handles Ctrl-C only
                    port = free_port()
                    reference = [sys.executable, "-c", GRADIO_STOP, str(data_dir), str(port)]
                    theirs.append(stop_seconds(reference, port, situation, signal_number))
            mine = statistics.median(ours)
            if theirs:  # Gradio's own path handles Ctrl-C only: no reference for SIGTERM
                ref = statistics.median(theirs)
                compared = f"{ref:>15.2f} {mine / ref:>6.2f}"
            else:
                compared = f"{'-':>15} {'-':>6}"
            print(f"{situation:<10} {name:<7} {mine:>15.2f} {compared}")


if __name__ == "__main__":
    main()
