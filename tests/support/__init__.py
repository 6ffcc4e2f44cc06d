"""What the tests share: paths, the network guard, child-process environments, shared data.

Test modules import helpers from here (and from ``tests.support.*``), never from each other.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

import rag  # first: offline flags before anything else imports HF libraries

REPO = Path(__file__).resolve().parents[2]
NETGUARD_DIR = REPO / "tests" / "netguard"
SHARED = Path(os.environ.get("NEWSRAG_SHARED", REPO.parent / "shared")) / "data"
SAMPLE = REPO / "data" / "sample"
ARTIFACTS = REPO / "test-artifacts"
NEWSRAG = [sys.executable, "-m", "newsrag"]  # the command line, in a child process

# One copy of the guard module for the fixture and the guard's own tests; child processes
# load it through sitecustomize from the same folder (``subprocess_env``).
sys.path.insert(0, str(NETGUARD_DIR))
import guard  # noqa: E402


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child processes: guarded too, offline, quiet."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(NETGUARD_DIR), str(REPO), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env.update(extra)
    return env


def as_in_a_terminal() -> None:
    """A child's ``preexec_fn``: Ctrl-C (SIGINT) reaches it as in a terminal. A suite started
    in the background by a non-interactive shell (``cmd &``) inherits SIGINT ignored, hands
    that down, and Python then never raises KeyboardInterrupt: a Ctrl-C test would hang."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def shared_file(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"needs ../shared/data/{'/'.join(parts)} (absent in a user's clone)")
    return path


def assert_leads_with(answer, expected: str) -> None:
    """The answer (an ``Answer`` or its JSON) leads with ``expected``: its first sentence says
    it, and its short answer, if the reader is sure enough to give one, is that and nothing
    else (the trained reader decides whether to give one: docs/reader.md)."""
    data = answer if isinstance(answer, dict) else answer.model_dump(mode="json")
    assert expected in rag.first_sentence(data["text"]), data["text"]
    assert data["short_answer"] in (None, expected)


__all__ = [
    "ARTIFACTS",
    "NEWSRAG",
    "REPO",
    "SAMPLE",
    "SHARED",
    "assert_leads_with",
    "guard",
    "shared_file",
    "subprocess_env",
]
