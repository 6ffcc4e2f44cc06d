"""Short answers from a sentence that holds the answer: the regexes vs spaCy NER vs both.

    .venv/bin/python benchmarks/short_answers.py                    # train set: design on this
    .venv/bin/python benchmarks/short_answers.py --set dev          # validation only

For each answerable question, the answer sentence is the first sentence of its gold articles
that holds the gold answer. Each method picks a short answer from it (or none); a pick is right
when it holds the gold and is at most max(8, 2 x gold) words (eval's short-answer rule).
Retrieval and sentence choice play no part: this measures span finding alone. Prints, per
method and per answer type: given, right, precision (right/given), recall (right/all).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rag
from eval.metrics import contains_answer, short_answer_correct
from rag.answer.entities import answer_candidates, expected_labels, sure_short_answer
from rag.answer.question import (
    answer_type,
    best_span,
    candidate_spans,
)

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = {"train": "realtimeqa-train", "dev": "realtimeqa-dev"}


def regex(sentence: str, question: str, source: str | None = None) -> str | None:
    """The finder NER replaced: the answer type's regex spans (none for untyped questions)."""
    kind = answer_type(question)
    spans = candidate_spans(sentence, kind, question) if kind != "entity" else []
    return best_span(spans, question, sentence)


def ner(sentence: str, question: str, source: str | None = None) -> str | None:
    """The candidate best_span ranks first."""
    labels = expected_labels(question)
    if labels is None:
        return None
    found = answer_candidates(sentence, question, labels, source)
    return best_span(list(dict.fromkeys(s for s, _ in found)), question, sentence)


def ner_sure(sentence: str, question: str, source: str | None = None) -> str | None:
    """Only when the sentence holds one candidate (newsrag's short answer)."""
    return sure_short_answer(sentence, question, expected_labels(question), source)


def regex_sure(sentence: str, question: str, source: str | None = None) -> str | None:
    """The regexes, only when they find one span."""
    kind = answer_type(question)
    spans = (
        list(dict.fromkeys(candidate_spans(sentence, kind, question))) if kind != "entity" else []
    )
    return spans[0] if len(spans) == 1 else None


def ner_sure_then_regex_sure(sentence: str, question: str, source: str | None = None) -> str | None:
    return ner_sure(sentence, question, source) or regex_sure(sentence, question)


def ner_then_regex(sentence: str, question: str, source: str | None = None) -> str | None:
    return ner(sentence, question, source) or regex(sentence, question)


def regex_for_typed(sentence: str, question: str, source: str | None = None) -> str | None:
    """The regexes where the question is typed (number, date, person, place), NER elsewhere."""
    kind = answer_type(question)
    if kind != "entity":
        return regex(sentence, question) or ner(sentence, question, source)
    return ner(sentence, question, source)


METHODS: dict[str, Callable[[str, str, str | None], str | None]] = {
    "regex": regex,
    "ner": ner,
    "ner, else regex": ner_then_regex,
    "ner, one candidate only": ner_sure,
    "regex, one candidate only": regex_sure,
    "ner one only, else regex one only": ner_sure_then_regex_sure,
    "regex if typed, else ner": regex_for_typed,
}


def answer_sentence(question: dict, articles: dict[str, dict]) -> tuple[str, str | None] | None:
    """(sentence, its article's source) of the first gold sentence holding the answer."""
    for article_id in question["gold_article_ids"]:
        article = articles.get(article_id) or {"body": ""}
        body = article["body"]
        for start, end in rag.sentence_spans(body):
            if contains_answer(body[start:end], question["answer"], max_words=None):
                return body[start:end], article.get("source")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--set", choices=sorted(SETS), default="train")
    args = parser.parse_args()
    folder = args.shared / SETS[args.set]
    if not (folder / "questions.jsonl").is_file():
        sys.exit(f"no {args.set} set at {folder}: point --shared at ../shared/data")
    articles = {}
    for line in (folder / "corpus.jsonl").open(encoding="utf-8"):
        record = json.loads(line)
        articles[record["id"]] = record
    questions = [json.loads(line) for line in (folder / "questions.jsonl").open(encoding="utf-8")]
    cases = [(q, answer_sentence(q, articles)) for q in questions if q["answerable"]]
    cases = [(q, s) for q, s in cases if s]
    print(f"{args.set}: {len(cases)} answerable questions with an answer sentence\n")
    print("| method | type | n | given | right | precision | recall | ms/question |")
    print("|---|---|---|---|---|---|---|---|")
    for name, method in METHODS.items():
        rows: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
        started = time.perf_counter()
        for question, (sentence, source) in cases:
            picked = method(sentence, question["question"], source)
            right = short_answer_correct(picked, question["answer"])
            rows["all"].append((picked is not None, right))
            rows[question.get("answer_type") or "unknown"].append((picked is not None, right))
        ms = (time.perf_counter() - started) * 1000 / len(cases)
        for group in ["all", *sorted(g for g in rows if g != "all")]:
            given = sum(g for g, _ in rows[group])
            right = sum(r for _, r in rows[group])
            n = len(rows[group])
            print(f"| {name} | {group} | {n} | {given} | {right} | "
                  f"{right / given if given else 0:.2f} | {right / n:.2f} | "
                  f"{ms if group == 'all' else 0:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
