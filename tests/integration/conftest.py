"""Real servers for integration tests: a `chroma run` process, a Ray cluster."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import subprocess_env
from tests.support.servers import free_port, wait_for


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real Chroma server (`chroma run`, shipped in the chromadb wheel) on 127.0.0.1."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if chroma is None:
        pytest.fail("the `chroma` command from the chromadb wheel is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = open(path / "server.log", "wb")  # noqa: SIM115  (closed at teardown)
    process = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path / "db")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=subprocess_env(),
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    """A real Ray cluster on 127.0.0.1 (`ray start --head`, 2 CPUs, no dashboard), with token
    authentication: yields (address, the environment a driver needs to join it)."""
    ray = shutil.which("ray", path=str(Path(sys.executable).parent))
    if ray is None:
        pytest.fail("the `ray` command is not installed (ray[data] is a test dependency)")
    port = free_port()
    env = subprocess_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    # No drain on stop: it waits up to 30 s for idle workers to leave (for Ray Serve's sake;
    # it was the suite's fifth-slowest step), and an ingest is over by then.
    head_env = {**env, "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}
    log_path = tmp_path_factory.mktemp("ray") / "head.log"
    log = open(log_path, "wb")  # noqa: SIM115  (closed at teardown)
    head = subprocess.Popen(
        [ray, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port",
         str(port), "--num-cpus", "2", "--include-dashboard", "false",
         "--disable-usage-stats"],
        stdout=log, stderr=subprocess.STDOUT, env=head_env,
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while b"--block" not in log_path.read_bytes():  # printed once every process is up
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"ray start failed: {log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.5)
        yield address, env
    finally:
        head.terminate()  # --block: the head's own processes stop with it
        try:
            head.wait(60)
        except subprocess.TimeoutExpired:
            head.kill()
        log.close()
