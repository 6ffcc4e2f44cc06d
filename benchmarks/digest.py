"""How well lead-passage cosine tells "same event" for the digest's stories (rag/digest.py).

Labelled pairs from the quiz sets: the gold articles of one question tell one event (positive
pairs); gold articles of different questions published within a week of each other are
different events of the same period (negative pairs; two questions about one event make a
few of them wrong, so precision here is a floor). Each article is its first passage's vector,
read from a library of the corpus (build one with `newsrag --data-dir DIR ingest
../shared/data/realtimeqa-train/corpus.jsonl`; `newsrag eval --cache` builds them too).
The threshold with the best F1 on train is then measured on dev.

    python benchmarks/digest.py --train-library DIR --dev-library DIR
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import rag  # noqa: E402
from rag.digest import SAME_EVENT_COSINE  # noqa: E402
from rag.store import chunk_ids  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
THRESHOLDS = [0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8]
SAME_PERIOD_DAYS = 7


def pairs(questions_path: Path, library_dir: Path) -> tuple[list[float], list[float]]:
    settings = rag.load_settings(data_dir=library_dir)
    with rag.open_library(settings) as library:
        questions = [json.loads(line) for line in questions_path.open(encoding="utf-8")]
        events = [q["gold_article_ids"] for q in questions if q.get("gold_article_ids")]
        ids = sorted({a for event in events for a in event})
        articles = {a: library.resolve(a) for a in ids}  # the corpus id is the origin key
        articles = {a: art for a, art in articles.items() if art and art.chunk_count}
        first = {chunk_ids(art.id, art.version, 1)[0]: a for a, art in articles.items()}
        got = library.collection.get(ids=list(first), include=["embeddings"])
    vectors = {first[c]: np.asarray(v) for c, v in zip(got["ids"], got["embeddings"], strict=True)}
    day = {a: art.published_date for a, art in articles.items()}
    event_of: dict[str, set[int]] = {}
    for number, event in enumerate(events):
        for article_id in event:
            event_of.setdefault(article_id, set()).add(number)
    same, different = [], []
    for a, b in itertools.combinations(sorted(vectors), 2):
        cosine = float(vectors[a] @ vectors[b])
        if event_of[a] & event_of[b]:
            same.append(cosine)
        elif day[a] and day[b] and abs((day[a] - day[b]).days) <= SAME_PERIOD_DAYS:
            different.append(cosine)
    return same, different


def scores(same: list[float], different: list[float]) -> dict[float, dict[str, float]]:
    table = {}
    for threshold in THRESHOLDS:
        found = sum(c >= threshold for c in same)
        wrong = sum(c >= threshold for c in different)
        precision = found / (found + wrong) if found + wrong else 1.0
        recall = found / len(same) if same else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[threshold] = {"precision": round(precision, 3), "recall": round(recall, 3),
                            "f1": round(f1, 3)}  # fmt: skip
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-library", type=Path, required=True)
    parser.add_argument("--dev-library", type=Path, required=True)
    args = parser.parse_args()
    results = {}
    for name, library in (("train", args.train_library), ("dev", args.dev_library)):
        same, different = pairs(SHARED / f"realtimeqa-{name}" / "questions.jsonl", library)
        results[name] = scores(same, different)
        print(f"\n{name}: {len(same)} same-event pairs, {len(different)} different-event pairs "
              f"(within {SAME_PERIOD_DAYS} days)")  # fmt: skip
        print(f"{'cosine':>6} {'precision':>9} {'recall':>6} {'F1':>5}")
        for threshold, r in results[name].items():
            mark = " <- shipped" if threshold == SAME_EVENT_COSINE else ""
            print(f"{threshold:>6} {r['precision']:>9} {r['recall']:>6} {r['f1']:>5}{mark}")
    best = max(results["train"], key=lambda t: results["train"][t]["f1"])
    print(f"\nbest F1 on train: {best}; shipped SAME_EVENT_COSINE = {SAME_EVENT_COSINE} "
          f"(as of {date.today()})")  # fmt: skip


if __name__ == "__main__":
    main()
