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
