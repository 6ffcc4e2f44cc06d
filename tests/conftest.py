"""Shared fixtures. Every test runs under the network guard."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

from tests.support import SAMPLE, guard
from tests.support.servers import web_server

# Test servers listen on 127.0.0.1, which fetches refuse by default (issue #12): on for every
# test and child process; the tests of the refusal turn it off explicitly.
os.environ["NEWSRAG_ALLOW_PRIVATE_URLS"] = "1"


@pytest.fixture(autouse=True)
def network_guard():
    """Fail any test that opens a non-loopback connection (even if the code caught it)."""
    guard.violations.clear()
    guard.install()
    yield
    guard.uninstall()
    if guard.violations:
        found = list(guard.violations)
        guard.violations.clear()
        pytest.fail("network guard: " + "; ".join(found))


@pytest.fixture
def settings(tmp_path):
    from rag import load_settings

    return load_settings(data_dir=tmp_path / "library")


@pytest.fixture
def write(tmp_path):
    """write("name.txt", text) -> path, with the text dedented."""

    def _write(name: str, text: str | bytes, folder: Path | None = None) -> Path:
        path = (folder or tmp_path / "in") / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def sample_copy(tmp_path):
    target = tmp_path / "sample"
    shutil.copytree(SAMPLE, target)
    return target


@pytest.fixture
def web():
    """A loopback web server: ``web.routes["/path"] = (status, content_type, body)``."""
    with web_server() as server:
        yield server
