"""The dev corpus from ../shared (skips when absent: a user's clone has none)."""

from __future__ import annotations

import json
import subprocess

import pytest

from rag import load_settings
from rag.store import Library
from tests.support import NEWSRAG, shared_file, subprocess_env

pytestmark = [pytest.mark.slow, pytest.mark.shared]


def test_dev_corpus_ingests_360_articles_and_reingest_embeds_nothing(tmp_path):
    corpus = shared_file("realtimeqa-dev", "corpus.jsonl")
    data_dir = tmp_path / "lib"

    def run():
        result = subprocess.run(
            [*NEWSRAG, "--data-dir", str(data_dir), "ingest", str(corpus),
             "--json", "--quiet"],
            capture_output=True, text=True, env=subprocess_env(), timeout=1500,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    first = run()
    assert (first["added"], first["failed"]) == (360, 0)
    second = run()
    assert (second["unchanged"], second["added"], second["chunks_embedded"]) == (360, 0, 0)
    with Library(load_settings(data_dir=data_dir)) as library:
        assert library.article_count() == 360
        assert library.check() == []
        assert all(a.origin_key and a.origin_key.startswith("art-") for a in library.articles())
