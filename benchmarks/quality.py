"""Answer quality and speed on the RealTime QA dev set: our engine vs. the naive baseline.

    .venv/bin/python benchmarks/quality.py                     # dev corpus, then + distractors
    .venv/bin/python benchmarks/quality.py --corpus dev        # one of them
    .venv/bin/python benchmarks/quality.py --work /tmp/newsrag-bench   # reuse built libraries

Questions are asked with as_of = question_date. Libraries are built (or updated: ingest is
incremental) under --work. Prints a table; asserts nothing. Targets (extractive, dev +
distractors): hit@5 >= 0.97, answer accuracy >= 0.75, citation accuracy >= 0.70, refusal >=
0.85 with false refusals <= 0.05, p50 latency <= 150 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag
from eval.baseline import BaselinePipeline
from eval.dataset import load_questions
from eval.metrics import contains_answer, hit_at_k, percentile
from ingest import ingest

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def build_library(work: Path, name: str, inputs: list[Path]) -> Path:
    data_dir = work / name
    started = time.perf_counter()
    summary = ingest(inputs, rag.load_settings(data_dir=data_dir))
    print(f"[{name}] library: {summary.line()} ({time.perf_counter() - started:.0f} s)")
    return data_dir


def score(system, questions, gold_map, engine_opts=None) -> dict:
    rows = []
    for number, q in enumerate(questions):
        started = time.perf_counter()
        answer = system.ask(q.question, as_of=q.question_date, **(engine_opts or {}))
        elapsed = (time.perf_counter() - started) * 1000
        ranked = [gold_map.get(p.article_id, p.article_id) for p in answer._passages]
        if isinstance(system, BaselinePipeline):
            ranked = [
                gold_map.get(n.node.metadata["article_id"]) for n in system.retrieve(q.question, 5)
            ]
        first_quote = answer.citations[0].quote if answer.citations else ""
        rows.append({
            "id": q.id, "answerable": q.answerable, "type": q.answer_type or "-",
            "relative": q.relative_time, "refused": answer.refused,
            "hit5": hit_at_k(ranked, set(q.gold_article_ids), 5) if q.answerable else None,
            "correct": q.answerable and not answer.refused and contains_answer(answer.text, q.answer),
            "cited": q.answerable and not answer.refused and contains_answer(first_quote, q.answer, None),
            "ms": elapsed if number else None,  # the first question warms caches
            "words": len(answer.text.split()),
        })  # fmt: skip
    return summarise(rows)


def summarise(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    latencies = [r["ms"] for r in rows if r["ms"] is not None]

    def share(items, key):
        return sum(bool(r[key]) for r in items) / len(items) if items else 0.0

    by_type = defaultdict(list)
    for r in answerable:
        by_type[r["type"]].append(r)
        by_type["time-relative" if r["relative"] else "not time-relative"].append(r)
    return {
        "hit@5": share(answerable, "hit5"),
        "answer_acc": share(answerable, "correct"),
        "citation_acc": share(answerable, "cited"),
        "refusal": share(unanswerable, "refused"),
        "false_refusal": share(answerable, "refused"),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "median_words": percentile([r["words"] for r in answerable], 50),
        "by_type": {k: (len(v), share(v, "correct"), share(v, "hit5")) for k, v in by_type.items()},
        "rows": rows,
    }


def print_table(title: str, results: dict[str, dict]) -> None:
    print(f"\n## {title}\n")
    keys = [
        "hit@5",
        "answer_acc",
        "citation_acc",
        "refusal",
        "false_refusal",
        "p50_ms",
        "p95_ms",
        "median_words",
    ]
    print("| system | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, r in results.items():
        cells = [
            f"{r[k]:.0f}" if k.endswith("ms") or k == "median_words" else f"{r[k]:.3f}"
            for k in keys
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for name, r in results.items():
        parts = ", ".join(
            f"{k} n={n} acc={acc:.2f} hit5={hit:.2f}"
            for k, (n, acc, hit) in sorted(r["by_type"].items())
        )
        print(f"- {name}: {parts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsrag-bench"))
    parser.add_argument("--corpus", choices=["dev", "full", "both"], default="both")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--set", action="append", default=[], help="setting override k=v")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    dev = args.shared / "realtimeqa-dev"
    if not (dev / "questions.jsonl").is_file():
        sys.exit(f"no dev set at {dev}: point --shared at ../shared/data")
    questions = load_questions(dev / "questions.jsonl")[: args.limit]
    overrides = dict(item.split("=", 1) for item in args.set)
    corpora = {"dev": [dev / "corpus.jsonl"],
               "full": [dev / "corpus.jsonl", args.shared / "news-distractors" / "distractors.jsonl"]}  # fmt: skip
    report = {}
    for name in ["dev", "full"] if args.corpus == "both" else [args.corpus]:
        data_dir = build_library(args.work, name, corpora[name])
        engine = rag.open_engine(data_dir, **overrides)
        gold_map = {a.id: a.origin_key for a in engine.library.articles()}
        results = {"newsrag (extractive)": score(engine, questions, gold_map)}
        if not args.no_baseline:
            baseline = BaselinePipeline(engine, cache_dir=args.work / name)
            results["naive baseline"] = score(baseline, questions, gold_map)
        print_table(f"{name}: {len(questions)} questions", results)
        report[name] = {k: {m: v for m, v in r.items() if m != "rows"} for k, r in results.items()}
        report[name + "_rows"] = {k: r["rows"] for k, r in results.items()}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
