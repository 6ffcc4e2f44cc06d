"""Ingest throughput vs. the raw encoder, and the cost of an unchanged re-ingest.

    .venv/bin/python benchmarks/ingest.py                       # dev corpus + all distractors
    .venv/bin/python benchmarks/ingest.py --distractors 1000    # a quicker run

Prints figures and ratios; asserts nothing (machines are shared and noisy). Targets:
pipeline chunks/s >= 0.8 x raw ``SentenceTransformer.encode`` chunks/s on the same chunk texts,
and re-ingest of the unchanged library <= 5% of the first ingest's time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag  # noqa: F401  (offline flags first)
from ingest import ingest
from rag import load_settings
from rag.store import Library

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="../shared/data")
    parser.add_argument("--distractors", type=int, default=None, help="how many (default all)")
    parser.add_argument("--raw-sample", type=int, default=3000, help="chunks for the raw encoder")
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a temp dir")
    parser.add_argument("--json", type=Path, default=None, help="also write figures here")
    args = parser.parse_args()

    corpus = args.shared / "realtimeqa-dev" / "corpus.jsonl"
    distractors = args.shared / "news-distractors" / "distractors.jsonl"
    if not corpus.is_file():
        sys.exit(f"no dev corpus at {corpus}: point --shared at ../shared/data")
    work = Path(tempfile.mkdtemp(prefix="newsrag-bench-"))
    inputs = [corpus]
    if distractors.is_file() and args.distractors != 0:
        subset = work / "distractors.jsonl"
        with open(distractors, encoding="utf-8") as src, open(subset, "w", encoding="utf-8") as dst:
            dst.writelines(itertools.islice(src, args.distractors))
        inputs.append(subset)
    settings = load_settings(data_dir=args.data_dir or work / "library")

    from rag.models import embedding_model

    model = embedding_model(settings)  # load outside the timed region (both sides need it)
    model.encode(["warm up"])

    started = time.perf_counter()
    first = ingest(inputs, settings)
    first_s = time.perf_counter() - started
    rss_ingest = peak_rss_mb()

    started = time.perf_counter()
    again = ingest(inputs, settings)
    again_s = time.perf_counter() - started

    with Library(settings) as library:
        texts = library.chunk_table().texts
    sample = random.Random(0).sample(texts, min(args.raw_sample, len(texts)))
    started = time.perf_counter()
    model._model.encode(sample, batch_size=settings.embed_batch_size, normalize_embeddings=True)
    raw_s = time.perf_counter() - started

    pipeline_cps = first.chunks_embedded / first_s
    raw_cps = len(sample) / raw_s
    figures = {
        "articles": first.added,
        "chunks": first.chunks_embedded,
        "failed": first.failed,
        "first_ingest_s": round(first_s, 1),
        "articles_per_s": round(first.added / first_s, 2),
        "pipeline_chunks_per_s": round(pipeline_cps, 2),
        "raw_encode_chunks_per_s": round(raw_cps, 2),
        "ratio_pipeline_to_raw": round(pipeline_cps / raw_cps, 3),
        "reingest_s": round(again_s, 2),
        "reingest_unchanged": again.unchanged,
        "reingest_embedded": again.chunks_embedded,
        "ratio_reingest_to_first": round(again_s / first_s, 4),
        "peak_rss_mb": round(rss_ingest, 0),
    }
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(
        f"\ntargets: pipeline/raw >= 0.80 -> {figures['ratio_pipeline_to_raw']:.2f}; "
        f"re-ingest/first <= 0.05 -> {figures['ratio_reingest_to_first']:.3f}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
