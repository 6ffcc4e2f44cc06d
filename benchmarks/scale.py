"""A library of 1,000,000 chunks behind a Chroma server: question latency, memory, disk, start-up,
and what adding articles costs there vs in an empty library.

    .venv/bin/python benchmarks/quality.py --corpus full --work /tmp/newsrag-bench   # source
    .venv/bin/python benchmarks/scale.py --library /tmp/newsrag-bench/full --work /tmp/scale
    .venv/bin/python benchmarks/scale.py ... --chunks 100000        # a smaller trial

The big library is real text: the articles of ``--library`` (the dev corpus and the 6,000
distractors) recycled under new ids, each round dated 30 days earlier, until ``--chunks``. Their
vectors are the real embeddings of those texts plus small noise (renormalised), so the build
doesn't spend 12 hours encoding; they go through ``Library.commit`` (journal, Chroma, SQLite),
into an embedded Chroma folder that a ``chroma run`` server then serves. The build resumes
where it stopped. Then, each in its own process:

- a serving process (extractive, hybrid): seconds from start to its first answer, then the
  dev questions asked warm three ways: no filter, ``as_of`` the question date, and a one-week
  window before it; p50/p95, and its peak RSS; then the same asks by a process whose answer
  stage computes in float32 (``answer_precision``), the reference for the p50s;
- 100 new articles (real distractor texts under new ids, embedded for real) ingested into the
  big library, and into an empty one on the same server: the ratio;
- ``--ray-articles`` (300) articles ingested locally and with ``--ray`` (a local Ray runtime,
  its start-up included): chunks/s (``--only-ray``: just this).

Targets (issue "past one machine"): p50 <= 300 ms at 1M chunks; adding 100 articles <= 2x the
empty-library time; serving RSS <= 3 GB; first answer <= 10 s after start; Ray/local >= 0.8.
Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag
from rag.store import Library, PendingArticle, chunk_ids
from rag.types import Article, Chunk

REPO = Path(__file__).resolve().parents[1]
DEFAULT_QUESTIONS = REPO.parent / "shared/data/realtimeqa-dev/questions.jsonl"
ROUND_SHIFT_DAYS = 30  # each recycled round of the corpus is dated this much earlier
NOISE = 0.01  # per-dimension sd added to a real vector (unit length): cosine to it ~0.98
COMMIT_ARTICLES = 500  # articles per Library.commit while building
NEW_ARTICLES = 100
TARGETS = {"p50_ms": 300, "add_ratio": 2.0, "rss_gb": 3.0, "first_answer_s": 10, "ray": 0.8}


def source_articles(library_dir: Path) -> list[tuple[Article, list]]:
    """Every article of the source library with its [(chunk row, vector)], read once (~55k
    vectors: 85 MB)."""
    settings = rag.load_settings(data_dir=library_dir)
    with Library(settings, create=False) as library:
        docstore = sqlite3.connect(f"file:{library_dir / 'library.sqlite'}?mode=ro", uri=True)
        docstore.row_factory = sqlite3.Row
        rows_of: dict[str, list] = {}
        for row in docstore.execute(
            "SELECT id, article_id, chunk_index, start, end, embed_text FROM chunks "
            "ORDER BY article_id, chunk_index"
        ):
            rows_of.setdefault(row["article_id"], []).append(row)
        ids = [row["id"] for rows in rows_of.values() for row in rows]
        vectors = {}
        for start in range(0, len(ids), 5000):
            found = library.collection.get(ids=ids[start : start + 5000], include=["embeddings"])
            vectors.update(zip(found["ids"], found["embeddings"], strict=True))
        return [
            (article, [(r, vectors[r["id"]]) for r in rows_of[article.id] if r["id"] in vectors])
            for article in library.articles()
            if rows_of.get(article.id)
        ]


def recycled(article: Article, rows, round_number: int, rng: np.random.Generator):
    """The article as round ``round_number``'s copy: new id, shifted date, noisy vectors."""
    shift = timedelta(days=ROUND_SHIFT_DAYS * round_number)
    published = article.published_date - shift if article.published_date else None
    copy = article.model_copy(update={
        "id": f"{article.id}-r{round_number}",
        "url": f"{article.url}#r{round_number}" if article.url else None,
        "origin_key": f"{article.origin_key or article.id}-r{round_number}",
        "published_date": published,
        "content_hash": f"{article.content_hash}-r{round_number}",
        "chunk_count": len(rows),
    })  # fmt: skip
    ids = chunk_ids(copy.id, copy.version, len(rows))
    chunks = [
        Chunk(id=chunk_id, article_id=copy.id, index=r["chunk_index"], start=r["start"],
              end=r["end"], text=article.body[r["start"] : r["end"]], embed_text=r["embed_text"])
        for chunk_id, (r, _) in zip(ids, rows, strict=True)
    ]  # fmt: skip
    vectors = np.asarray([v for _, v in rows], dtype=np.float32)
    vectors += rng.normal(0, NOISE, vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return PendingArticle(copy, chunks, vectors.tolist())


def build(source: Path, target: Path, wanted: int) -> float:
    """Grow the library at ``target`` to ``wanted`` chunks (resumable); seconds spent."""
    started = time.perf_counter()
    settings = rag.load_settings(data_dir=target)
    rng = np.random.default_rng(0)
    corpus = source_articles(source)
    with Library(settings) as library, library.writing():
        library.check_embedding(settings.embed_model)
        have = library.chunk_count()
        round_number = 0
        while have < wanted:
            batch: list[PendingArticle] = []
            for article, rows in corpus:
                pending = recycled(article, rows, round_number, rng)
                if library.get(pending.article.id) is not None:
                    continue  # built by an earlier, interrupted run
                batch.append(pending)
                have += len(rows)
                if len(batch) >= COMMIT_ARTICLES or have >= wanted:
                    library.commit(batch)
                    batch = []
                    print(f"  {have:,} chunks ({time.perf_counter() - started:.0f} s)", flush=True)
                if have >= wanted:
                    break
            library.commit(batch)
            round_number += 1
    return time.perf_counter() - started  # writing() brought the keyword index up to date


SERVE = r"""
import json, resource, sys, time
from datetime import date, timedelta
started = time.perf_counter()
peak_gb = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
import rag
engine = rag.open_engine(settings=rag.load_settings(data_dir=sys.argv[1], chroma_url=sys.argv[2],
                                           answerer="extractive", answer_precision=sys.argv[5]))
figures = {"open_s": time.perf_counter() - started, "rss_gb_after": {"open": peak_gb()}}
questions = [json.loads(l) for l in open(sys.argv[3]) if l.strip()][: int(sys.argv[4])]
engine.ask(questions[0]["question"])
figures["first_answer_s"] = time.perf_counter() - started
figures["rss_gb_after"]["first answer"] = peak_gb()
for name in ("none", "as_of", "week"):
    times = []
    for q in questions:
        asked = date.fromisoformat(q["question_date"])
        options = {"none": {}, "as_of": {"as_of": asked},
                   "week": {"as_of": asked, "since": asked - timedelta(days=7)}}[name]
        t = time.perf_counter(); engine.ask(q["question"], **options)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    figures[name] = {"p50_ms": times[len(times) // 2], "p95_ms": times[int(0.95 * (len(times) - 1))]}
    figures["rss_gb_after"][name] = peak_gb()
figures["rss_gb"] = peak_gb()
print(json.dumps(figures))
"""


def serve(big: Path, url: str, args: argparse.Namespace, precision: str) -> dict:
    """The serving figures of a fresh process answering with ``answer_precision=precision``."""
    served = subprocess.run([sys.executable, "-c", SERVE, str(big), url, str(args.questions),
                             str(args.limit), precision],
                            capture_output=True, text=True, cwd=REPO)  # fmt: skip
    if served.returncode != 0:
        raise SystemExit(f"serving process failed: {served.stderr[-3000:]}")
    return json.loads(served.stdout.strip().splitlines()[-1])


def chroma_server(path: Path) -> tuple[subprocess.Popen, str]:
    sys.path.insert(0, str(REPO))
    from tests.support.servers import free_port, wait_for

    port = free_port()
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
    log = open(path.parent / "chroma-server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen([chroma, "run", "--host", "127.0.0.1", "--port", str(port),
                               "--path", str(path)], stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", server, seconds=600)
    return server, f"http://127.0.0.1:{port}"


def new_articles(source: Path, folder: Path, count: int = NEW_ARTICLES) -> Path:
    """``count`` real texts from the source library under ids no library holds."""
    settings = rag.load_settings(data_dir=source)
    with Library(settings, create=False) as library:
        picked = library.articles()[-count:]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "new.jsonl"
    path.write_text("\n".join(json.dumps({
        "id": f"new-{a.id}", "title": a.title, "body": a.body, "source": a.source,
        "url": f"https://new.example/{a.id}",
        "published": (a.published_date or date(2026, 1, 1)).isoformat(),
    }) for a in picked), encoding="utf-8")  # fmt: skip
    return path


def timed_ingest(args: list[str]) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "newsrag", *args, "--json"], capture_output=True,
                          text=True, cwd=REPO)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"ingest failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started, json.loads(done.stdout)


def compare_ray(args: argparse.Namespace) -> dict[str, float]:
    """Chunks/s of the same ingest run locally and with --ray (a local Ray runtime, its
    start-up included), each into a fresh library."""
    new = new_articles(args.library, args.work / "ray-new", args.ray_articles)
    local_dir, ray_dir = args.work / "local-ingest", args.work / "ray-ingest"
    for folder in (local_dir, ray_dir):
        shutil.rmtree(folder, ignore_errors=True)
    local_s, local = timed_ingest(["--data-dir", str(local_dir), "ingest", str(new)])
    ray_s, on_ray = timed_ingest(["--data-dir", str(ray_dir), "ingest", str(new), "--ray"])
    local_cps, ray_cps = local["chunks_embedded"] / local_s, on_ray["chunks_embedded"] / ray_s
    print(f"ingest of {args.ray_articles} articles ({local['chunks_embedded']} chunks): local "
          f"{local_cps:.1f} chunks/s ({local_s:.0f} s), Ray {ray_cps:.1f} chunks/s ({ray_s:.0f} s, "
          f"with its start-up): {ray_cps / local_cps:.2f}x")  # fmt: skip
    return {"local_chunks_per_s": local_cps, "ray_chunks_per_s": ray_cps}


def disk_gb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1024**3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", type=Path, required=True, help="dev + distractors library")
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsrag-scale"))
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--only-ray", action="store_true", help="only local vs Ray ingest")
    parser.add_argument("--only-serving", action="store_true", help="no ingest figures")
    parser.add_argument("--ray-articles", type=int, default=300, help="for local vs Ray")
    parser.add_argument("--limit", type=int, default=100, help="dev questions asked (each 3x)")
    args = parser.parse_args()
    big = args.work / f"library-{args.chunks}"
    if args.only_ray:
        compare_ray(args)
        return

    print(f"building {args.chunks:,} chunks in {big} ...", flush=True)
    build_s = build(args.library, big, args.chunks)
    with Library(rag.load_settings(data_dir=big), create=False) as library:
        chunks, articles = library.chunk_count(), library.article_count()
    print(f"built: {articles:,} articles, {chunks:,} chunks ({build_s:.0f} s this run); "
          f"disk {disk_gb(big):.1f} GB")  # fmt: skip

    server, url = chroma_server(big / "chroma")
    try:
        serving = serve(big, url, args, "auto")  # as shipped
        reference = serve(big, url, args, "float32")  # the answer stage's models in float32
        print(f"serving: first answer {serving['first_answer_s']:.1f} s after start "
              f"(engine open at {serving['open_s']:.1f} s), peak RSS {serving['rss_gb']:.2f} GB "
              f"(peak after {serving['rss_gb_after']})")  # fmt: skip
        for name in ("none", "as_of", "week"):
            p50, base = serving[name]["p50_ms"], reference[name]["p50_ms"]
            print(f"  ask, filter {name}: p50 {p50:.0f} ms, p95 {serving[name]['p95_ms']:.0f} ms "
                  f"(answer_precision=float32 in the same run: p50 {base:.0f} ms, "
                  f"{p50 / base:.2f}x)")  # fmt: skip
        figures = {"chunks": chunks, "disk_gb": disk_gb(big), **serving, "float32": reference}
        if args.only_serving:
            (args.work / "figures.json").write_text(json.dumps(figures, indent=2))
            return

        new = new_articles(args.library, args.work / "new")
        empty = args.work / "empty"
        shutil.rmtree(empty, ignore_errors=True)
        common = ["--chroma-url", url]
        into_empty, _ = timed_ingest(["--data-dir", str(empty), *common, "--collection",
                                      "empty-library", "ingest", str(new)])  # fmt: skip
        into_big, summary = timed_ingest(["--data-dir", str(big), *common, "ingest", str(new)])
        with (
            Library(rag.load_settings(data_dir=big, chroma_url=url)) as library,
            library.writing(),
        ):  # the big library as it was, for the next run
            library.delete([found[0] for found in library.articles_from(str(new))])
        print(f"adding {NEW_ARTICLES} articles ({summary['chunks_embedded']} chunks): "
              f"{into_big:.1f} s into {chunks:,} chunks vs {into_empty:.1f} s into an empty "
              f"library: {into_big / into_empty:.2f}x")  # fmt: skip
        figures |= {"add_big_s": into_big, "add_empty_s": into_empty}
    finally:
        server.terminate()
        server.wait(60)

    if not args.skip_ray:
        figures.update(compare_ray(args))
    (args.work / "figures.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
