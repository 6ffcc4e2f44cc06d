"""Each bad input: one clear line naming it, the rest goes on, nothing already stored is lost."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ingest import ingest
from rag import load_settings
from rag.store import Library
from tests.support import NEWSRAG, SAMPLE, subprocess_env
from tests.support.articles import FESTIVAL
from tests.support.servers import free_port

pytestmark = pytest.mark.slow


def make_symlink_loop(folder):
    loop = folder / "loop.txt"
    os.symlink(loop, loop)
    return loop


CASES = {
    # name: (make(tmp) -> input, expected location suffix, expected reason)
    "empty file": (lambda d: _w(d, "empty.txt", b""), "empty.txt", "empty file"),
    "binary file": (lambda d: _w(d, "pic.txt", b"\x89PNG\x00\x00\x01"), "pic.txt", "binary file"),
    "invalid UTF-8": (lambda d: _w(d, "latin.md", b"caf\xe9\n"), "latin.md", "invalid UTF-8"),
    "malformed JSON line": (
        lambda d: _w(d, "x.jsonl", b'{"title": "ok", "body": "Fine body."}\n{"title": oops}\n'),
        "x.jsonl:2",
        "malformed JSON line",
    ),
    "record without body": (
        lambda d: _w(d, "y.jsonl", b'{"title": "Only a title"}\n'),
        "y.jsonl:1",
        "no article body",
    ),
    "oversize file": (
        lambda d: _w(d, "huge.txt", b"Title\n" + b"word " * 300_000),
        "huge.txt",
        "over the",
    ),
    "unreadable path": (make_symlink_loop, "loop.txt", "cannot read"),
    "symlink loop inside a folder": (
        lambda d: make_symlink_loop(_folder(d)).parent,
        "inside/loop.txt",
        "symlink loop",
    ),
    "symlink out of the folder": (
        lambda d: _link_out(d, _folder(d)),
        "inside/passwd.txt",
        "outside the folder: not followed",
    ),
    "entity-expansion feed": (
        lambda d: _w(d, "lol.rss", LOL_FEED),
        "lol.rss",
        "declares or references XML entities",
    ),
    "external-entity feed": (
        lambda d: _w(d, "xxe.rss", XXE_FEED),
        "xxe.rss",
        "declares or references XML entities",
    ),
    "malformed feed declaring entities": (
        lambda d: _w(d, "bad.rss", LOL_FEED.replace(b"<!DOCTYPE", b"<<!DOCTYPE")),
        "bad.rss",
        "declares XML entities",
    ),
    "missing path": (lambda d: str(d / "nope.txt"), "nope.txt", "no such file"),
    "unreachable URL": (
        lambda d: f"http://127.0.0.1:{free_port()}/story",
        "/story",
        "unreachable",
    ),
    "feed that is not a feed": (
        lambda d: _w(d, "news.xml", b"<html><body>just a page</body></html>"),
        "news.xml",
        "not an RSS/Atom feed",
    ),
    "unsupported type": (lambda d: _w(d, "report.pdf", b"%PDF-1.4"), "report.pdf", "unsupported"),
}


LOL_FEED = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>Lol</title><item><title>Item &lol9;</title>
<description>The body of an item that is long enough to be an article &lol9;.</description>
</item></channel></rss>"""
XXE_FEED = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>X</title><item><title>Item &secret;</title>
<description>Body &secret;.</description></item></channel></rss>"""


def _link_out(parent, folder):
    secret = _w(parent, "secret.txt", b"Secret\nA private file beside the folder, not in it.\n")
    os.symlink(secret, folder / "passwd.txt")
    return folder


def _folder(parent):
    folder = parent / "inside"
    folder.mkdir()
    return folder


def _w(folder, name, data):
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_named_and_nothing_is_lost(case, settings, tmp_path):
    make, location, reason = CASES[case]
    settings = settings.model_copy(update={"max_file_mb": 1.0, "fetch_timeout_s": 3.0})
    ingest([SAMPLE], settings)
    good = tmp_path / "good.txt"
    good.write_text(FESTIVAL, encoding="utf-8")

    bad = make(tmp_path)
    summary = ingest([bad, good], settings)

    assert summary.failed == 1, summary.errors
    [line] = summary.errors
    head, _, why = line.partition(": ")
    assert head.endswith(location), line
    assert reason in why, line
    assert summary.added >= 1  # the good file after the bad one still went in
    with Library(settings) as library:
        titles = {a.title for a in library.articles()}
        assert any(t.startswith("According to the Supreme Leader") for t in titles)
        assert library.check() == []


def test_permission_denied_when_not_root(settings, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file; the symlink-loop case covers unreadable paths")
    path = _w(tmp_path, "secret.txt", b"Title\nBody.")
    path.chmod(0)
    summary = ingest([path], settings)
    assert summary.errors == [f"{path}: permission denied"]


def test_cli_reports_each_failure_and_exits_non_zero(tmp_path):
    data_dir = tmp_path / "lib"
    # A name longer than a line: a log line that names it must stay one line (it was wrapped
    # at 80 columns when stderr was not a terminal, mid-path).
    bad = _w(tmp_path, "x" * 90 + ".jsonl", b'{"title": "A", "body": "Alpha body."}\nnot json\n')
    result = subprocess.run(
        [*NEWSRAG, "--data-dir", str(data_dir), "ingest", str(bad),
         str(SAMPLE), "--json"],
        capture_output=True, text=True, env=subprocess_env(), timeout=300,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["added"], summary["failed"]) == (2, 1)
    assert set(summary) >= {"added", "updated", "unchanged", "removed", "failed"}
    assert f"failed: {bad}:2: malformed JSON line" in result.stderr.splitlines()[-1]


def test_cli_rejects_bad_settings_and_field_maps_clearly(tmp_path):
    def run(*args):
        return subprocess.run(
            [*NEWSRAG, "--data-dir", str(tmp_path / "lib"), *args],
            capture_output=True, text=True, env=subprocess_env(), timeout=120,
        )  # fmt: skip

    result = run("ingest", str(SAMPLE), "--field", "bodymaintext")
    assert result.returncode == 2 and "expected ours=theirs" in result.stderr
    result = run("ingest", str(SAMPLE), "--field", "colour=x")
    assert result.returncode == 2 and "unknown field 'colour'" in result.stderr
    result = run("list")
    assert result.returncode == 2 and "no library at" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_default_library_untouched_by_tests():
    # Guard against a test writing into a user's real library by accident.
    assert "pytest" not in str(load_settings().data_dir)
