"""The dev corpus from ../shared (skips when absent: a user's clone has none)."""

from __future__ import annotations

import json
import subprocess

import pytest

from rag import load_settings
from rag.store import Library
from tests.support import NEWSRAG, shared_file, subprocess_env

pytestmark = [pytest.mark.slow, pytest.mark.shared]


# Every fourth article of the real dev corpus: 90 real articles of every kind it holds, embedded
# in a quarter of the 99 s all 360 took (the suite's second-slowest test).
SAMPLE_EVERY = 4


def test_real_dev_articles_ingest_and_a_reingest_embeds_nothing(tmp_path):
    lines = shared_file("realtimeqa-dev", "corpus.jsonl").read_text().splitlines()
    sample = [line for line in lines if line.strip()][::SAMPLE_EVERY]
    corpus = tmp_path / "sample.jsonl"
    corpus.write_text("\n".join(sample) + "\n")
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
    assert (first["added"], first["failed"]) == (len(sample), 0)
    second = run()
    assert (second["unchanged"], second["added"], second["chunks_embedded"]) == (len(sample), 0, 0)
    with Library(load_settings(data_dir=data_dir)) as library:
        assert library.article_count() == len(sample)
        assert library.check() == []
        assert all(a.origin_key and a.origin_key.startswith("art-") for a in library.articles())
