"""What's new: articles of a period grouped into stories, ranked by how many outlets covered
them, each with its lead sentence; `newsrag digest` prints it and names a bad period."""

from __future__ import annotations

import json
import subprocess
from datetime import date

import pytest

import rag
from ingest import ingest
from tests.support import NEWSRAG, subprocess_env

BRIDGE = [
    ("Harbor Times", "Storm closes the harbor bridge",
     "Storm winds forced the city to close the harbor bridge on Monday as gusts reached 120 "
     "kilometers an hour. Police diverted traffic through the tunnel."),
    ("The Ledger", "Harbor bridge shut as storm hits the coast",
     "The harbor bridge was closed on Monday after storm gusts of 120 kilometers an hour swept "
     "the coast. Drivers were sent through the tunnel instead."),
    ("Coast Radio", "Bridge closed in storm, traffic diverted",
     "A storm with gusts near 120 kilometers an hour closed the harbor bridge on Monday, and "
     "police diverted drivers to the tunnel."),
]  # fmt: skip
BAKERY = ("Harbor Times", "Old bakery reopens on Mill Street",
          "The old bakery on Mill Street reopened on Tuesday under new owners, who kept the "
          "wood-fired oven and the original recipes for rye bread.")  # fmt: skip
OLD = ("The Ledger", "Council budget approved",
       "The council approved next year's budget in a short meeting, with spending on parks "
       "up by four percent and road repairs unchanged.")  # fmt: skip


@pytest.fixture
def library_dir(tmp_path, settings):
    rows = [(*story, "2026-11-23") for story in BRIDGE] + [(*BAKERY, "2026-11-24"),
                                                           (*OLD, "2026-10-01")]  # fmt: skip
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(
        json.dumps({"id": str(i), "source": s, "title": t, "body": b, "published": d,
                    "url": f"https://news.example/{i}"})
        for i, (s, t, b, d) in enumerate(rows)
    ), encoding="utf-8")  # fmt: skip
    assert ingest([str(path)], settings).added == 5
    return settings.data_dir


def test_the_most_covered_story_comes_first_with_its_outlets_and_lead(settings, library_dir):
    with rag.open_library(settings) as library:
        stories = rag.most_covered(library, date(2026, 11, 20), date(2026, 11, 29))
        assert [len(s.article_ids) for s in stories] == [3, 1]  # the October story is outside
        bridge = stories[0]
        assert bridge.outlets == ["Coast Radio", "Harbor Times", "The Ledger"]
        assert "harbor bridge" in bridge.lead.quote and bridge.lead.quote.endswith(".")
        article = library.get(bridge.lead.article_id)
        assert article.body[bridge.lead.start : bridge.lead.end] == bridge.lead.quote
        radio = rag.most_covered(library, date(2026, 11, 20), date(2026, 11, 29), ["Coast Radio"])
        assert [s.outlets for s in radio] == [["Coast Radio"]]  # its article only


def test_digest_command_prints_stories_and_names_a_bad_period(settings, library_dir):
    def run(*args):
        return subprocess.run([*NEWSRAG, "--data-dir", str(library_dir), "digest", *args],
                              capture_output=True, text=True, env=subprocess_env(), timeout=120)  # fmt: skip

    listed = run("--since", "1w", "--as-of", "2026-11-25", "--json")
    assert listed.returncode == 0, listed.stderr
    stories = json.loads(listed.stdout)
    assert stories[0]["outlets"] == ["Coast Radio", "Harbor Times", "The Ledger"]
    assert stories[1]["headline"] == "Old bakery reopens on Mill Street"
    shown = run("--since", "2026-11-20", "--as-of", "2026-11-25")
    assert "1. " in shown.stdout and "3 articles · Coast Radio, Harbor Times, The Ledger" in (
        shown.stdout)  # fmt: skip
    bad = run("--since", "lately")
    assert bad.returncode == 2 and "--since 'lately': expected a length such as 24h" in bad.stderr
