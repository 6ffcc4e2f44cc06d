"""Precision and recall of the near-duplicate detector (ingest/dedupe.py) on labelled sets built
from the shared corpora.

For each corpus, every article is put in a ``StoryIndex`` (as the library holds its stories),
then:
- **copies** (positives): for a seeded sample of articles, a syndicated copy with realistic
  edits: a dateline/byline line, trailing boilerplate, a paragraph cut or one of another
  article added, a few words changed; each must be found as a copy of its original;
- **different stories** (negatives): every article of the corpus asked against the index of
  all the others: any answer is a false merge. Corpora hold real stories on the same topics
  (several articles per news event, follow-ups that reuse paragraphs); the hardest pairs are
  listed. Pairs that are themselves copies (SAME_STORY_JACCARD) are left out and counted.

The threshold is chosen on the train corpus (the lowest with precision >= TARGET_PRECISION,
i.e. the most copies found without false merges) and then measured on the distractor corpus.

    python benchmarks/dedupe.py [--copies 400] [--corpus train|distractors|both]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest import dedupe  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
CORPORA = {
    "train": SHARED / "realtimeqa-train" / "corpus.jsonl",
    "distractors": SHARED / "news-distractors" / "distractors.jsonl",
}
THRESHOLDS = [0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9]
# A false merge throws a real article's text away (a follow-up's new facts); a missed copy
# only repeats a story in the top passages. So precision first.
TARGET_PRECISION = 0.995
SEED = 2026
# Two articles of the corpus are one story (a copy inside the corpus, not a negative) when
# their exact shingle sets overlap this much. Not "they share a long run": a developing story
# rewritten under a new URL ("Royal Mail warns of 6,000 job cuts" the day after "postal workers
# begin strikes") shares whole paragraphs with the first, but is a new story whose new facts a
# merge would lose.
SAME_STORY_JACCARD = 0.8

DATELINES = ["WASHINGTON (AP) — ", "LONDON (Reuters) - ", "PARIS (AFP) — ", "By Staff Writer\n\n",
             "NEW YORK — ", "By Associated Press\n\n"]  # fmt: skip
BOILERPLATE = [
    "Copyright 2026 The Associated Press. All rights reserved. This material may not be "
    "published, broadcast, rewritten or redistributed.",
    "Sign up for our morning newsletter to get the day's top stories in your inbox.",
    "Reporting by staff; editing by the news desk. Our standards: the Trust Principles.",
    "Have a news tip? Contact our newsroom. Follow us on social media for updates.",
]
SWAPS = {"said": "told reporters", "says": "said", "percent": "%", "Monday": "Monday morning",
         "officials": "authorities", "announced": "said", "about": "around"}  # fmt: skip


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [row for row in map(json.loads, handle) if row.get("body")]


def edited_copy(body: str, donor: str, rng: random.Random) -> str:
    """A syndicated copy: each edit an outlet makes, some of them at random."""
    paragraphs = [p for p in body.split("\n") if p.strip()]
    if len(paragraphs) >= 4 and rng.random() < 0.5:  # a paragraph cut
        del paragraphs[rng.randrange(1, len(paragraphs))]
    if rng.random() < 0.3:  # a paragraph of local context added
        extra = [p for p in donor.split("\n") if len(p.split()) > 15]
        if extra:
            paragraphs.insert(rng.randrange(1, len(paragraphs) + 1), rng.choice(extra))
    text = "\n\n".join(paragraphs)
    words = text.split(" ")
    for i, word in enumerate(words):  # a few words changed by the copy desk
        if word in SWAPS and rng.random() < 0.5:
            words[i] = SWAPS[word]
    text = " ".join(words)
    if rng.random() < 0.7:
        text = rng.choice(DATELINES) + text
    if rng.random() < 0.7:
        text += "\n\n" + rng.choice(BOILERPLATE)
    return text


def shingles(text: str) -> set[str]:
    tokens = dedupe.words(text)
    n = dedupe.SHINGLE_WORDS
    return {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def exact_jaccard(a: str, b: str) -> float:
    first, second = shingles(a), shingles(b)
    return len(first & second) / max(1, len(first | second))


def measure(
    articles: list[dict], copies: int, rng: random.Random, thresholds: list[float] = THRESHOLDS
) -> dict:
    started = time.perf_counter()
    signatures = {a["id"]: dedupe.signature(a["body"]) for a in articles}
    published = {a["id"]: _day(a.get("published_date")) for a in articles}
    titles = {a["id"]: a.get("title", "") for a in articles}
    signed = {i: s for i, s in signatures.items() if s is not None}
    bodies = {a["id"]: a["body"] for a in articles}
    sign_s = time.perf_counter() - started
    sample = rng.sample(sorted(signed), min(copies, len(signed)))
    copy_signatures = {}
    for original in sample:
        donor = bodies[rng.choice(sorted(signed))]
        copy_signatures[original] = dedupe.signature(edited_copy(bodies[original], donor, rng))
    twins: dict[tuple[str, str], bool] = {}

    def same_story(a: str, b: str) -> bool:
        if (a, b) not in twins:
            twins[a, b] = exact_jaccard(bodies[a], bodies[b]) >= SAME_STORY_JACCARD
        return twins[a, b]

    results = {}
    for threshold in thresholds:
        index = dedupe.StoryIndex([], threshold=threshold)
        for article_id, signature in signed.items():
            index.add(article_id, signature, published[article_id])
        found = wrong = 0
        for original, signature in copy_signatures.items():
            when = published[original]  # the copy runs the same day
            hit = index.copy_of(signature, when) if signature is not None else None
            # The corpus's own copy of the original is the same story: found, not wrong.
            same = hit == original or (hit is not None and same_story(hit, original))
            found += same
            wrong += hit is not None and not same
        false_merges, hardest, real_copies = 0, [], 0
        for article_id, signature in signed.items():
            hit = index.copy_of(signature, published[article_id], other_than=article_id)
            if hit is None:
                continue
            if same_story(article_id, hit):
                real_copies += 1  # a true copy inside the corpus: not a negative
                continue
            false_merges += 1
            hardest.append((round(signature.jaccard(signed[hit]), 3), titles[article_id][:50],
                            titles[hit][:50]))  # fmt: skip
        merges = found + wrong + false_merges
        results[threshold] = {
            "recall": round(found / len(copy_signatures), 3),
            "precision": round(found / merges, 3) if merges else 1.0,
            "copies_found": found,
            "copies": len(copy_signatures),
            "false_merges": false_merges + wrong,
            "negatives": len(signed) - real_copies,
            "copies_inside_corpus": real_copies,
            "hardest_false_merges": sorted(hardest, reverse=True)[:3],
        }
    return {"articles": len(articles), "signed": len(signed), "sign_s": round(sign_s, 1),
            "by_threshold": results}  # fmt: skip


def choose(by_threshold: dict) -> float:
    good = [t for t, r in by_threshold.items() if r["precision"] >= TARGET_PRECISION]
    return min(good) if good else max(by_threshold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=400)
    parser.add_argument("--corpus", choices=["train", "distractors", "both"], default="both")
    args = parser.parse_args()
    names = ["train", "distractors"] if args.corpus == "both" else [args.corpus]
    report = {}
    for name in names:
        if not CORPORA[name].is_file():
            sys.exit(f"needs {CORPORA[name]} (../shared beside the repository)")
        report[name] = measure(load(CORPORA[name]), args.copies, random.Random(SEED))
    if "train" in report:
        chosen = choose(report["train"]["by_threshold"])
        print(f"threshold chosen on train (lowest with precision >= {TARGET_PRECISION}): "
              f"{chosen}; shipped COPY_THRESHOLD = {dedupe.COPY_THRESHOLD}")  # fmt: skip
    for name, result in report.items():
        print(f"\n{name}: {result['articles']} articles ({result['signed']} long enough to "
              f"compare; signatures in {result['sign_s']} s)")  # fmt: skip
        print(f"{'threshold':>9} {'precision':>9} {'recall':>6} {'false merges':>12} "
              f"{'in-corpus copies':>16}")  # fmt: skip
        for threshold, r in result["by_threshold"].items():
            mark = " <- shipped" if threshold == dedupe.COPY_THRESHOLD else ""
            print(f"{threshold:>9} {r['precision']:>9} {r['recall']:>6} "
                  f"{r['false_merges']:>12} {r['copies_inside_corpus']:>16}{mark}")  # fmt: skip
        shipped = result["by_threshold"].get(dedupe.COPY_THRESHOLD)
        if shipped and shipped["hardest_false_merges"]:
            print("hardest false merges at the shipped threshold:",
                  shipped["hardest_false_merges"])  # fmt: skip


if __name__ == "__main__":
    main()
