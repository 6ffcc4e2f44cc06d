"""Which keyword engine grows: bm25s rebuilt per change vs SQLite FTS5 vs tantivy.

    .venv/bin/python benchmarks/quality.py --corpus full --work /tmp/newsrag-bench  # a library
    .venv/bin/python benchmarks/keyword.py --library /tmp/newsrag-bench/full
    .venv/bin/python benchmarks/keyword.py --library /tmp/newsrag-bench/full --chunks 1000000

All three index the same terms (``rag.lexicon.terms``: stemmed, stopwords out) of the library's
chunks; with ``--chunks`` the texts are recycled under new ids up to that many. For each engine:
time to build it whole, time to add 900 chunks (~100 articles) to it (for bm25s: a rebuild,
its only way; every engine's figures include making the terms), query p50/p95 over the dev questions, and keyword-only hit@5 on the dev questions
(a gold article among the top 5 chunks' articles; real chunks only). Ratios are to bm25s, the
engine before this one, measured in the same run. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.keyword import KeywordDocument, KeywordIndex
from rag.lexicon import terms

DEFAULT_QUESTIONS = (
    Path(__file__).resolve().parents[2] / "shared/data/realtimeqa-dev/questions.jsonl"
)
ADDED = 900  # chunks of ~100 articles: a busy feed round
K = 50  # candidates per search, as the engine asks (settings.candidates)


class Engine:
    name = ""

    def build(self, ids: list[str], texts: list[str]) -> None: ...
    def add(self, ids: list[str], texts: list[str]) -> None: ...
    def search(self, query_terms: list[str], k: int) -> list[str]: ...


class Bm25s(Engine):
    name = "bm25s (rebuilt)"

    def build(self, ids, texts):
        import bm25s

        self.ids, self.texts = list(ids), list(texts)
        self.bm25 = bm25s.BM25()
        self.bm25.index([terms(t) for t in self.texts], show_progress=False)

    def add(self, ids, texts):  # immutable: the only way is a rebuild
        self.build(self.ids + ids, self.texts + texts)

    def search(self, query_terms, k):
        vocab = self.bm25.vocab_dict
        wanted = [t for t in query_terms if t in vocab]
        if not wanted:
            return []
        found, _ = self.bm25.retrieve([wanted], k=k, show_progress=False)
        return [self.ids[int(i)] for i in found[0]]


class Fts5(Engine):
    name = "SQLite FTS5"

    def __init__(self, folder: Path):
        self.db = sqlite3.connect(folder / "fts.sqlite")
        self.db.execute("CREATE VIRTUAL TABLE kw USING fts5(chunk UNINDEXED, body)")

    def build(self, ids, texts):
        self.add(ids, texts)

    def add(self, ids, texts):
        with self.db:
            self.db.executemany(
                "INSERT INTO kw VALUES (?, ?)",
                ((i, " ".join(terms(t))) for i, t in zip(ids, texts, strict=True)),
            )

    def search(self, query_terms, k):
        if not query_terms:
            return []
        expression = " OR ".join(f'"{t}"' for t in dict.fromkeys(query_terms))
        rows = self.db.execute(
            "SELECT chunk FROM kw WHERE kw MATCH ? ORDER BY rank LIMIT ?", (expression, k)
        )
        return [row[0] for row in rows]


class Tantivy(Engine):
    name = "tantivy (rag.keyword)"

    def __init__(self, folder: Path):
        (folder / "tantivy").mkdir()
        self.index = KeywordIndex(folder / "tantivy", create=True)

    def build(self, ids, texts):
        self.add(ids, texts)

    def add(self, ids, texts):
        self.index.replace(
            [], (KeywordDocument(i, i, t, 0) for i, t in zip(ids, texts, strict=True))
        )

    def search(self, query_terms, k):
        return [chunk for chunk, _ in self.index.search(" ".join(query_terms), k)]


def timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", type=Path, required=True, help="a dev + distractors library")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--chunks", type=int, default=0, help="recycle texts up to this many")
    parser.add_argument("--engine", action="append", choices=["bm25s", "fts5", "tantivy"])
    parser.add_argument("--limit", type=int, default=None, help="ask only this many questions")
    args = parser.parse_args()

    docstore = sqlite3.connect(f"file:{args.library / 'library.sqlite'}?mode=ro", uri=True)
    rows = docstore.execute("SELECT id, article_id, embed_text FROM chunks ORDER BY id").fetchall()
    article_of = {chunk_id: article_id for chunk_id, article_id, _ in rows}
    origin = dict(docstore.execute("SELECT origin_key, id FROM articles").fetchall())
    real_texts = [text for _, _, text in rows]
    ids = [chunk_id for chunk_id, _, _ in rows]
    texts = list(real_texts)
    while len(ids) < args.chunks:  # recycled texts under new ids: realistic term statistics
        take = min(len(real_texts), args.chunks - len(ids))
        ids += [f"copy{len(ids) + i}" for i in range(take)]
        texts += real_texts[:take]
    added_ids = [f"new{i}" for i in range(ADDED)]
    added_texts = real_texts[:ADDED]

    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line]
    questions = questions[: args.limit]
    answerable = [q for q in questions if q.get("answerable", True) and q["gold_article_ids"]]
    print(f"{len(ids)} chunks ({len(rows)} real), {len(questions)} questions\n")
    print("| engine | build | add 900 | query p50 | query p95 | hit@5 | add vs bm25s |")
    print("|---|---|---|---|---|---|---|")
    reference_add = None
    wanted = args.engine or ["bm25s", "fts5", "tantivy"]
    for name in wanted:
        folder = Path(tempfile.mkdtemp(prefix="kw-bench-"))
        try:
            engine = {"bm25s": Bm25s, "fts5": lambda f=folder: Fts5(f),
                      "tantivy": lambda f=folder: Tantivy(f)}[name]()  # fmt: skip
            build_s = timed(lambda e=engine: e.build(ids, texts))
            latencies, hits = [], []
            for question in questions:
                query_terms = terms(question["question"])
                started = time.perf_counter()
                found = engine.search(query_terms, K)
                latencies.append((time.perf_counter() - started) * 1000)
                if question in answerable:
                    gold = {origin.get(g, g) for g in question["gold_article_ids"]}
                    top = list(dict.fromkeys(article_of[c] for c in found if c in article_of))
                    hits.append(bool(gold & set(top[:5])))
            add_s = timed(lambda e=engine: e.add(added_ids, added_texts))
            reference_add = reference_add or (add_s if name == "bm25s" else None)
            ratio = f"{add_s / reference_add:.4f}x" if reference_add else "-"
            latencies.sort()
            print(
                f"| {engine.name} | {build_s:.1f} s | {add_s * 1000:.0f} ms | "
                f"{statistics.median(latencies):.1f} ms | "
                f"{latencies[int(0.95 * (len(latencies) - 1))]:.1f} ms | "
                f"{statistics.mean(hits):.3f} | {ratio} |"
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
