"""`newsrag ui` as a user runs it: first start on an empty library, and the bind rules."""

from __future__ import annotations

import signal
import subprocess

import httpx
import pytest

from tests.support import NEWSRAG, assert_leads_with, subprocess_env
from tests.support.servers import free_port, wait_for

pytestmark = pytest.mark.slow


def test_a_public_bind_without_auth_is_refused_before_anything_starts(tmp_path):
    result = subprocess.run(
        [*NEWSRAG, "--data-dir", str(tmp_path / "lib"), "ui", "--host", "0.0.0.0"],
        capture_output=True, text=True, env=subprocess_env(), timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--host 0.0.0.0 makes the library reachable from other machines" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "lib").exists()  # refused before the library was touched


def test_bad_auth_file_is_named(tmp_path):
    result = subprocess.run(
        [*NEWSRAG, "ui", "--auth-file", str(tmp_path / "nope")],
        capture_output=True, text=True, env=subprocess_env(), timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"--auth-file {tmp_path / 'nope'}" in result.stderr


def test_first_start_fills_an_empty_library_with_the_sample_and_serves_it(tmp_path):
    from gradio_client import Client

    port = free_port()
    process = subprocess.Popen(
        [*NEWSRAG, "--data-dir", str(tmp_path / "lib"), "ui", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/", process, seconds=180)
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
        answer = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(
            "Who heads the U.N. nuclear watchdog?", api_name="/ask"
        )
        assert_leads_with(answer, "Rafael Grossi")
    finally:
        process.send_signal(signal.SIGINT)
        # Gradio takes seconds to shut down, more on a busy machine: a generous bound, and
        # below, a check of how it exited.
        out, err = process.communicate(timeout=180)
    assert f"newsrag is running at http://127.0.0.1:{port}/" in out
    assert "The library is empty: adding the articles in" in err
    assert "added 1" in err
    assert "Traceback" not in err
    assert process.returncode == 0


def test_ctrl_c_stops_without_waiting_for_an_answer_being_generated(tmp_path, web):
    """Stopping used to wait for Gradio's 5 s server join and then for worker threads (over 60 s
    on a loaded CI machine). Load-independent check: Ctrl-C arrives while an answer waits on
    an LLM server that will not reply for minutes, and the process is gone long before."""
    import threading

    from gradio_client import Client

    from ingest import ingest
    from rag import load_settings
    from tests.support import SAMPLE

    release = threading.Event()
    web.routes["/v1/models"] = (200, "application/json", b'{"object": "list", "data": []}')
    web.routes["POST /v1/chat/completions"] = lambda: (release.wait(600), (500, "text/plain", b""))[
        1
    ]
    ingest([SAMPLE], load_settings(data_dir=tmp_path / "lib"))
    port = free_port()
    process = subprocess.Popen(
        [*NEWSRAG, "--data-dir", str(tmp_path / "lib"), "ui", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=subprocess_env(NEWSRAG_LLM_BACKEND="openai", NEWSRAG_LLM_BASE_URL=f"{web.url}/v1",
                           NEWSRAG_LLM_TIMEOUT_S="600"),
    )  # fmt: skip
    outcome: dict[str, object] = {}

    def ask() -> None:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        try:
            outcome["answer"] = client.predict("Who leads Iran?", answerer="llm", api_name="/ask")
        except Exception as error:
            outcome["error"] = error

    asking = threading.Thread(target=ask, daemon=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/", process, seconds=180)
        asking.start()
        asking.join(3)  # the answer now waits on the LLM server, which holds it for 600 s
        assert asking.is_alive(), f"the answer finished before Ctrl-C: {outcome}"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)  # far below the 600 s the answer would take
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
    assert "answer" not in outcome
    assert "stopping" in err and "Traceback" not in err
    assert process.returncode == 0
