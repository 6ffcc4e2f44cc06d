"""Shared fixtures. Every test runs under the network guard."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

import rag  # noqa: F401  (offline flags before anything else imports HF libraries)

NETGUARD_DIR = Path(__file__).parent / "netguard"
sys.path.insert(0, str(NETGUARD_DIR))
import guard  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSRAG_SHARED", REPO.parent / "shared")) / "data"
SAMPLE = REPO / "data" / "sample"
ARTIFACTS = REPO / "test-artifacts"


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


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child processes: guarded too, offline, quiet."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(NETGUARD_DIR), str(REPO), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env.update(extra)
    return env


def shared_file(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"needs ../shared/data/{'/'.join(parts)} (absent in a user's clone)")
    return path


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
