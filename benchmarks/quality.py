"""Answer quality and speed on the RealTime QA dev set: our engine vs. the naive baseline.

    .venv/bin/python benchmarks/quality.py                      # dev corpus, then + distractors
    .venv/bin/python benchmarks/quality.py --corpus dev         # one of them
    .venv/bin/python benchmarks/quality.py --work /tmp/newsrag-bench   # where libraries live

It is ``newsrag eval`` (``eval.run_eval``) on two libraries, so the numbers agree with the eval
suite by construction. Libraries are built (or brought up to date: ingest is incremental) under
--work. Each question is asked with as_of = question_date. Prints tables; asserts nothing.
Targets (extractive, dev + distractors): hit@5 >= 0.97, answer accuracy >= 0.75, citation
accuracy >= 0.70, refusal >= 0.85 with false refusals <= 0.05, p50 latency <= 150 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag
from eval import run_eval
from eval.metrics import contains_answer
from eval.report import HEADLINE, summary_rows
from ingest import ingest

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TARGETS = {"hit@5": 0.97, "answer_accuracy": 0.75, "citation_accuracy": 0.70,
           "refusal_accuracy": 0.85, "false_refusal": 0.05, "latency_p50_ms": 150}  # fmt: skip


def build_library(data_dir: Path, inputs: list[Path]) -> None:
    started = time.perf_counter()
    summary = ingest(inputs, rag.load_settings(data_dir=data_dir))
    print(f"[{data_dir.name}] {summary.line()} ({time.perf_counter() - started:.0f} s)")


def citation_accuracy(report, config: str) -> float:
    """The issue's "first citation's quote contains the gold string" (answerable questions)."""
    rows = [r for r in report.results if r.config == config and r.answerable]
    hits = 0
    for row in rows:
        hits += bool(row.first_quote) and contains_answer(row.first_quote, row.gold, None)
    return hits / len(rows) if rows else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsrag-bench"))
    parser.add_argument("--corpus", choices=["dev", "full", "both"], default="both")
    parser.add_argument("--config", action="append", default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    dev = args.shared / "realtimeqa-dev"
    if not (dev / "questions.jsonl").is_file():
        sys.exit(f"no dev set at {dev}: point --shared at ../shared/data")
    corpora = {
        "dev": [dev / "corpus.jsonl"],
        "full": [dev / "corpus.jsonl", args.shared / "news-distractors" / "distractors.jsonl"],
    }
    configs = args.config or ["baseline", "default"]
    figures = {}
    for name in ["dev", "full"] if args.corpus == "both" else [args.corpus]:
        data_dir = args.work / name
        build_library(data_dir, corpora[name])
        report = run_eval(
            dev / "questions.jsonl", configs=configs, limit=args.limit, data_dir=data_dir,
            cache_dir=args.work / "cache", out=args.work / f"report-{name}",
        )  # fmt: skip
        print(f"\n## {name}: {report.questions} questions, library {data_dir}\n")
        print("| config | " + " | ".join(label for _, label, _ in HEADLINE) + " | cit. acc. |")
        print("|---" * (len(HEADLINE) + 2) + "|")
        for row, config in zip(summary_rows(report), report.configs, strict=True):
            print("| " + " | ".join(row) + f" | {citation_accuracy(report, config):.3f} |")
        for config in report.configs:
            parts = ", ".join(
                f"{group} n={v['n']:.0f} acc={v['answer_accuracy']:.2f} hit5={v['hit@5']:.2f}"
                for group, v in report.breakdowns[config].items()
            )
            print(f"- {config}: {parts}")
        figures[name] = {
            c: {**report.metrics[c], "citation_accuracy": citation_accuracy(report, c)}
            for c in report.configs
        }
    print("\ntargets (extractive, dev + distractors):", TARGETS)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
