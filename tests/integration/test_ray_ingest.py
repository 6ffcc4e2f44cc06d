"""`newsrag ingest --ray`: on a real Ray cluster (`ray start --head` on 127.0.0.1) into a real
`chroma run` server. A Ray ingest gives the same articles, chunk ids, texts and (within 1e-5)
vectors as a local one; a rerun embeds nothing; an embedding actor killed mid-ingest loses and
duplicates nothing (the ingest completes, or a rerun does)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import rag
from ingest import ingest
from tests.support import NEWSRAG, SAMPLE, subprocess_env

WORDS = [
    "council",
    "harbour",
    "ferry",
    "budget",
    "vote",
    "mayor",
    "residents",
    "bridge",
    "festival",
    "storm",
    "river",
    "school",
    "hospital",
    "election",
    "minister",
    "court",
    "trade",
    "port",
    "market",
    "union",
    "strike",
    "rail",
    "energy",
    "water",
    "airport",
    "museum",
    "library",
    "police",
    "housing",
    "tax",
    "wind",
    "solar",
    "farm",
    "fishing",
    "tourism",
]


def articles(count: int, seed: int, words: int = 600) -> list[dict]:
    """Distinct, deterministic articles of ``words`` words (about ``words / 150`` chunks)."""
    rng = random.Random(seed)
    made = []
    for number in range(count):
        sentences = []
        for _ in range(words // 12):
            picked = rng.choices(WORDS, k=11)
            sentences.append(f"The {' '.join(picked)} story {seed}-{number} continued.")
        made.append({
            "id": f"s{seed}-{number}", "title": f"Report {seed}-{number}: {WORDS[number % 30]}",
            "source": "Harbor Times", "url": f"https://harbor.example/{seed}/{number}",
            "published": f"2026-11-{1 + number % 28:02d}", "body": " ".join(sentences),
        })  # fmt: skip
    return made


def write_jsonl(folder, name: str, rows: list[dict]):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    return path


def ray_ingest(settings, address, env, *inputs, timeout=600, wait=True):
    command = [*NEWSRAG, "--data-dir", str(settings.data_dir), "--chroma-url",
               settings.chroma_url, "--collection", settings.collection, "ingest",
               *map(str, inputs), f"--ray={address}", "--json"]  # fmt: skip
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)


def contents(settings) -> tuple[list[tuple], list[tuple[str, str]], dict[str, np.ndarray]]:
    with rag.open_library(settings) as library:
        stored = sorted(
            (a.id, a.version, a.title, a.body, a.source, a.published_date)
            for a in library.articles()
        )
        chunks = sorted((d.chunk_id, d.text) for d in library.keyword_documents(None))
        found = library.collection.get(ids=[c for c, _ in chunks], include=["embeddings"])
        vectors = dict(zip(found["ids"], np.asarray(found["embeddings"]), strict=True))
        return stored, chunks, vectors


def test_a_ray_ingest_matches_a_local_one(tmp_path, ray_cluster, chroma_server):
    address, env = ray_cluster
    inputs = tmp_path / "in"
    rows = articles(10, seed=1)
    write_jsonl(inputs, "a.jsonl", rows[:6])
    # A second file: more articles, and one story again under another outlet's URL.
    copy = dict(rows[0], id="copy", url="https://other.example/copy", source="Other Paper")
    write_jsonl(inputs, "b.jsonl", [*rows[6:], copy])
    local = rag.load_settings(data_dir=tmp_path / "local")
    on_ray = rag.load_settings(data_dir=tmp_path / "ray", chroma_url=chroma_server,
                               collection="ray-matches-local")  # fmt: skip

    expected = ingest([str(inputs), str(SAMPLE)], local)
    ran = ray_ingest(on_ray, address, env, inputs, SAMPLE)
    assert ran.returncode == 0, ran.stderr[-3000:]
    summary = json.loads(ran.stdout)
    assert (summary["added"], summary["unchanged"], summary["failed"]) == (
        expected.added, expected.unchanged, expected.failed,
    )  # fmt: skip

    local_articles, local_chunks, local_vectors = contents(local)
    ray_articles, ray_chunks, ray_vectors = contents(on_ray)
    assert ray_articles == local_articles and len(ray_articles) == 11  # 10 + the sample
    assert ray_chunks == local_chunks
    for chunk_id, vector in local_vectors.items():
        assert np.allclose(ray_vectors[chunk_id], vector, atol=1e-5), chunk_id
    with rag.open_library(on_ray) as library:
        story = library.resolve(rows[0]["id"])
        outlets = library.outlets([story.id])[story.id]
        assert [o.source for o in outlets] == ["Other Paper"]  # the copy recognised, as locally

    again = ray_ingest(on_ray, address, env, inputs, SAMPLE)
    assert again.returncode == 0, again.stderr[-3000:]
    rerun = json.loads(again.stdout)
    assert rerun["added"] == 0 and rerun["chunks_embedded"] == 0


def embedding_actors() -> list[int]:
    """Pids of the Ray worker processes running the embedding actor, once it has loaded the
    model (Ray titles the process ``...Embedder)).__init__`` until then)."""
    found = subprocess.run(["pgrep", "-a", "-f", r"MapBatches\(Embedder\)"],
                           capture_output=True, text=True)  # fmt: skip
    return [int(line.split()[0]) for line in found.stdout.splitlines() if "__init__" not in line]


def test_an_embedding_actor_killed_mid_ingest_loses_and_duplicates_nothing(
    tmp_path, ray_cluster, chroma_server
):
    address, env = ray_cluster
    inputs = tmp_path / "in"
    for part in range(6):
        write_jsonl(inputs, f"part{part}.jsonl", articles(10, seed=10 + part))
    settings = rag.load_settings(data_dir=tmp_path / "ray", chroma_url=chroma_server,
                                 collection="ray-fault")  # fmt: skip
    running = ray_ingest(settings, address, env, inputs, wait=False)
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and running.poll() is None and time.monotonic() < deadline:
        actors = embedding_actors()
        committed = 0
        if (settings.data_dir / "library.sqlite").exists():
            with rag.open_library(settings) as library:
                committed = library.article_count()
        if actors:  # mid-ingest: an actor at work, most articles still to come
            killed, committed_when_killed = actors[0], committed
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.2)
    _, err = running.communicate(timeout=600)
    assert killed is not None, f"the ingest ended before an actor could be killed: {err[-2000:]}"
    if running.returncode != 0:  # the ingest may fail; then a rerun must finish the job
        rerun = ray_ingest(settings, address, env, inputs)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert committed_when_killed < 60, "the actor was killed after every article was in"
    with rag.open_library(settings) as library:
        assert library.article_count() == 60
        assert library.check() == []  # every committed chunk has its vector, no strays
        chunk_ids = [d.chunk_id for d in library.keyword_documents(None)]
        assert len(chunk_ids) == len(set(chunk_ids)) == library.chunk_count()
        assert library.collection.count() == library.chunk_count()


def test_a_ray_ingest_refuses_urls_and_names_a_path_given_as_the_address(tmp_path, settings):
    url = subprocess.run(
        [*NEWSRAG, "--data-dir", str(settings.data_dir), "ingest", "https://example.org/a",
         "--ray"], capture_output=True, text=True, env=subprocess_env(), timeout=120,
    )  # fmt: skip
    assert url.returncode == 2 and "https://example.org/a: a Ray ingest reads files" in url.stderr
    path = subprocess.run(
        [*NEWSRAG, "--data-dir", str(settings.data_dir), "ingest", str(SAMPLE),
         f"--ray={SAMPLE}"],
        capture_output=True, text=True, env=subprocess_env(), timeout=120,
    )  # fmt: skip
    assert path.returncode == 2 and "not a cluster address" in path.stderr, path.stderr


def test_a_bare_ray_flag_starts_its_own_runtime_even_where_a_cluster_left_its_address(settings):
    """`--ray` alone is a local runtime. `ray start` leaves its address in ray_current_cluster;
    a plain ray.init() would join that cluster, or wait for it when it is gone."""
    temp = Path(tempfile.mkdtemp(prefix="r", dir="/tmp"))  # short: Ray's socket paths
    try:
        (temp / "ray").mkdir()
        (temp / "ray" / "ray_current_cluster").write_text("127.0.0.1:9")  # nothing listens
        ran = subprocess.run(
            [*NEWSRAG, "--data-dir", str(settings.data_dir), "ingest", str(SAMPLE), "--ray",
             "--json"], capture_output=True, text=True, timeout=300,
            env=subprocess_env(RAY_TMPDIR=str(temp), TMPDIR=str(temp)),
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr[-3000:]
        assert json.loads(ran.stdout)["added"] == 1
    finally:
        shutil.rmtree(temp, ignore_errors=True)
