"""Run gold questions through one or more configurations and score them.

    from eval import run_eval
    report = run_eval("eval/gold/sample.jsonl", configs=["baseline", "default"])

Each question is asked with ``as_of = question_date``; only ``question`` and that date reach
the system (answers, gold ids, answer types and analysis fields never do). Answers are cached
per configuration and question under ``<cache>/answers``, so an interrupted run resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import rag
from eval.baseline import BaselinePipeline
from eval.dataset import GoldQuestion, load_questions
from eval.errors import EvalError
from eval.metrics import (
    contains_answer,
    exact_match,
    first_sentence,
    hit_at_k,
    mrr_at_k,
    percentile,
    recall_at_k,
    short_answer_correct,
    token_f1,
)
from eval.progress import OnProgress
from eval.report import write_report
from ingest import ingest

BUILTIN_CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "dense_only": {"retrieval_mode": "dense"},
    "keyword_only": {"retrieval_mode": "keyword"},
    "llm": {"answerer": "llm"},
    # The extractive answerer with the logistic reader the cross-encoder reader replaced, and
    # with the hand-set weights before that.
    "logistic": {"extractive_scorer": "logistic"},
    "weights": {"extractive_scorer": "weights"},
}
BASELINE = "baseline"
# Bumped whenever QuestionResult gains or changes a field: cached answers of an older format
# are asked again instead of scoring a new metric as False.
RESULT_FORMAT = 2


@dataclass(frozen=True)
class Config:
    name: str
    overrides: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Config:
        """``NAME`` or ``NAME:key=value,key=value`` (a built-in name brings its overrides)."""
        name, _, rest = text.partition(":")
        name = name.strip()
        if not name:
            raise EvalError(f"--config {text!r}: empty name")
        overrides = dict(BUILTIN_CONFIGS.get(name, {}))
        for item in filter(None, (part.strip() for part in rest.split(","))):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise EvalError(f"--config {text!r}: expected key=value, got {item!r}")
            overrides[key.strip()] = _value(value.strip())
        if name != BASELINE and name not in BUILTIN_CONFIGS and not overrides:
            known = ", ".join([BASELINE, *BUILTIN_CONFIGS])
            raise EvalError(
                f"--config {text!r}: unknown name (built-in: {known}; or NAME:key=value)"
            )
        return cls(name, overrides)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@dataclass
class QuestionResult:
    id: str
    config: str
    answerable: bool
    answer_type: str | None
    relative_time: bool
    refused: bool
    answer: str
    short_answer: str | None
    confidence: float | None
    latency_ms: float
    hit_at_5: bool | None
    mrr_at_10: float | None
    recall_at_5: float | None
    contains: bool
    token_f1: float
    exact_short: bool
    citation_precision: float | None
    citation_recall: float | None
    gold: str
    would_contain: bool = False  # the answer the answerer would give without refusing
    first_quote: str = ""  # the first citation's quote
    first_sentence_contains: bool = False  # gold inside the answer's first sentence
    quote_contains: bool = False  # gold inside the first citation's quote
    short_contains: bool = False  # gold inside a short answer that is short


@dataclass
class Report:
    configs: list[str]
    questions: int
    metrics: dict[str, dict[str, float]]  # config -> metric -> value
    breakdowns: dict[str, dict[str, dict[str, float]]]  # config -> group -> metric -> value
    results: list[QuestionResult]
    tradeoff: dict[str, list[tuple[float, float, float]]]  # config -> (threshold, acc, refusal)
    chosen_threshold: float | None
    library: str
    plots: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------- scoring
def citation_support(answer: rag.Answer, weight) -> tuple[float | None, float | None]:
    """ALCE-style (Gao et al. 2023), with rag.cite's support judgement.

    Precision: share of citations whose quoted sentence supports the answer sentence it is
    attached to. Recall: share of answer sentences supported by at least one of their citations.
    None when not applicable (a refusal, or an answer without sentences).
    """
    if answer.refused:
        return None, None
    by_number = {c.n: c for c in answer.citations}
    statements = rag.split_statements(answer.text)
    if not statements:
        return None, None
    supported_statements = 0
    attached = supported = 0
    for statement in statements:
        any_support = False
        for n in statement.cited:
            attached += 1
            citation = by_number.get(n)
            if citation is not None and rag.citation_supports(statement.text, citation, weight):
                supported += 1
                any_support = True
        supported_statements += any_support
    precision = supported / attached if attached else 0.0
    return precision, supported_statements / len(statements)


def score_answer(
    question: GoldQuestion, answer: rag.Answer, config: str, gold_keys, weight
) -> QuestionResult:
    ranked = [gold_keys(p.article_id) for p in answer.retrieved]
    gold = set(question.gold_article_ids)
    retrieval = question.answerable and bool(gold)
    answered = not answer.refused
    precision, recall = citation_support(answer, weight)
    would = answer.text if answered else answer.withheld_text or ""
    first_quote = answer.citations[0].quote if answer.citations else ""
    return QuestionResult(
        id=question.id,
        config=config,
        answerable=question.answerable,
        answer_type=question.answer_type,
        relative_time=question.relative_time,
        refused=answer.refused,
        answer=answer.text,
        short_answer=answer.short_answer,
        confidence=answer.confidence,
        latency_ms=answer.timings.get("total", 0.0),
        hit_at_5=hit_at_k(_articles(ranked, gold), gold, 5) if retrieval else None,
        mrr_at_10=mrr_at_k(_articles(ranked, gold), gold, 10) if retrieval else None,
        recall_at_5=recall_at_k(_articles(ranked, gold), gold, 5) if retrieval else None,
        contains=question.answerable and answered and contains_answer(answer.text, question.answer),
        token_f1=token_f1(answer.short_answer or answer.text, question.answer)
        if question.answerable and answered
        else 0.0,
        exact_short=question.answerable and exact_match(answer.short_answer, question.answer),
        citation_precision=precision,
        citation_recall=recall,
        gold=question.answer,
        would_contain=question.answerable and contains_answer(would, question.answer),
        first_quote=first_quote,
        first_sentence_contains=question.answerable
        and answered
        and contains_answer(first_sentence(answer.text), question.answer),
        quote_contains=question.answerable
        and contains_answer(first_quote, question.answer, max_words=None),
        short_contains=question.answerable
        and answered
        and short_answer_correct(answer.short_answer, question.answer),
    )


def _articles(ranked: list[list[str]], gold: set[str]) -> list[str]:
    """One ranked entry per retrieved passage: the key of its article that gold uses, if any."""
    return [next((k for k in keys if k in gold), keys[0] if keys else "") for keys in ranked]


def summarise(results: Sequence[QuestionResult]) -> dict[str, float]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]

    def mean(values) -> float:
        values = [float(v) for v in values if v is not None]
        return sum(values) / len(values) if values else 0.0

    latencies = [r.latency_ms for r in results]
    return {
        "n": float(len(results)),
        "hit@5": mean(r.hit_at_5 for r in answerable),
        "mrr@10": mean(r.mrr_at_10 for r in answerable),
        "recall@5": mean(r.recall_at_5 for r in answerable),
        "answer_accuracy": mean(r.contains for r in answerable),
        "first_sentence_accuracy": mean(r.first_sentence_contains for r in answerable),
        "short_answer_accuracy": mean(r.short_contains for r in answerable),
        "short_answer_precision": mean(r.short_contains for r in answerable if r.short_answer),
        "citation_accuracy": mean(r.quote_contains for r in answerable),
        "token_f1": mean(r.token_f1 for r in answerable),
        "short_answer_em": mean(r.exact_short for r in answerable),
        "citation_precision": mean(r.citation_precision for r in results),
        "citation_recall": mean(r.citation_recall for r in results),
        "refusal_accuracy": mean(r.refused for r in unanswerable),
        "false_refusal": mean(r.refused for r in answerable),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


def breakdown(results: Sequence[QuestionResult]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[QuestionResult]] = {}
    for r in results:
        if r.answerable:
            groups.setdefault(f"type:{r.answer_type or 'unknown'}", []).append(r)
            groups.setdefault(
                "time-relative" if r.relative_time else "not time-relative", []
            ).append(r)
    summaries = {name: summarise(rows) for name, rows in sorted(groups.items())}
    return {
        name: {"n": v["n"], "answer_accuracy": v["answer_accuracy"], "hit@5": v["hit@5"]}
        for name, v in summaries.items()
    }


def tradeoff(results: Sequence[QuestionResult]) -> list[tuple[float, float, float]]:
    """(threshold, answer accuracy, refusal accuracy) as the refusal threshold moves."""
    scored = [r for r in results if r.confidence is not None]
    if not scored:
        return []
    answerable = [r for r in scored if r.answerable]
    unanswerable = [r for r in scored if not r.answerable]
    points = []
    for step in range(0, 81):
        threshold = step / 100
        accuracy = sum(r.confidence >= threshold and r.would_contain for r in answerable) / max(
            len(answerable), 1
        )
        refusal = sum(r.confidence < threshold for r in unanswerable) / max(len(unanswerable), 1)
        points.append((threshold, accuracy, refusal))
    return points


# ----------------------------------------------------------------------------- running
def library_key(corpus: Sequence[Path], settings) -> str:
    """What names a corpus's cached library: the files' bytes and how they are chunked and
    embedded. Not their paths or times: a data folder copied afresh (new modification times,
    as ../shared is each session) keeps its library."""
    key = hashlib.sha256()
    for path in sorted(corpus):
        # A folder is what ingest reads of it: its files, by their place in it.
        files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
        for file in files:
            key.update(f"{file.relative_to(path)}|".encode() if file != path else b"|")
            try:
                with open(file, "rb") as handle:
                    key.update(hashlib.file_digest(handle, "sha256").digest())
            except OSError as error:
                raise EvalError(f"--corpus {file}: {error.strerror}") from None
    key.update(
        f"{settings.embed_model}|{settings.chunk_tokens}|{settings.chunk_overlap_tokens}".encode()
    )
    if settings.merge_copies:  # syndicated copies stored once (ingest/dedupe.py)
        key.update(b"|merge-copies")
    return key.hexdigest()[:16]


def corpus_library(corpus: Sequence[Path], settings, cache_root: Path) -> Path:
    """A library for these corpus files and embedding/chunk settings, built once and reused."""
    data_dir = cache_root / "libraries" / library_key(corpus, settings)
    summary = ingest(list(corpus), settings.model_copy(update={"data_dir": data_dir}))
    if summary.articles_seen == 0:
        raise EvalError(f"--corpus {', '.join(map(str, corpus))}: no articles could be ingested")
    return data_dir


def run_eval(
    questions: str | Path | Sequence[GoldQuestion],
    *,
    corpus: Sequence[str | Path] = (),
    configs: Sequence[str | Config] = ("baseline", "default"),
    limit: int | None = None,
    out: str | Path | None = None,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    on_progress: OnProgress | None = None,
) -> Report:
    """Score ``questions`` with each configuration; write the report to ``out`` if given."""
    gold_questions = (
        load_questions(questions) if isinstance(questions, str | Path) else list(questions)
    )[:limit]
    parsed = [c if isinstance(c, Config) else Config.parse(c) for c in configs]
    if len({c.name for c in parsed}) != len(parsed):
        raise EvalError("--config: each configuration needs its own name")
    settings = rag.load_settings(data_dir=data_dir)
    cache_root = Path(cache_dir) if cache_dir else default_cache()
    library_dir = (
        corpus_library([Path(c) for c in corpus], settings, cache_root)
        if corpus
        else settings.data_dir
    )
    base = rag.open_engine(library_dir)
    known = _gold_keys(base)
    for question in gold_questions:
        missing = [i for i in question.gold_article_ids if i not in known.all_keys]
        if missing:
            raise EvalError(
                f"{question.location}: unknown gold article id {missing[0]!r} "
                f"(not in the library at {library_dir})"
            )
    weight = base.library.term_weights()

    results: list[QuestionResult] = []
    answers_dir = cache_root / "answers" / _library_key(base)
    for config in parsed:
        system = _system(config, base, library_dir, cache_root / "baseline" / answers_dir.name)
        cache_file = answers_dir / f"{_config_key(config, system)}.jsonl"
        cached = _read_cache(cache_file)
        for number, question in enumerate(gold_questions, 1):
            if question.id in cached:
                results.append(QuestionResult(**cached[question.id]))
            else:
                started = time.perf_counter()
                answer = system.ask(question.question, as_of=question.question_date)
                answer.timings.setdefault("total", (time.perf_counter() - started) * 1000)
                result = score_answer(question, answer, config.name, known, weight)
                _append_cache(cache_file, result)
                results.append(result)
            if on_progress:
                on_progress(config.name, number, len(gold_questions))

    by_config = {c.name: [r for r in results if r.config == c.name] for c in parsed}
    report = Report(
        configs=[c.name for c in parsed],
        questions=len(gold_questions),
        metrics={name: summarise(rows) for name, rows in by_config.items()},
        breakdowns={name: breakdown(rows) for name, rows in by_config.items()},
        results=results,
        tradeoff={name: tradeoff(rows) for name, rows in by_config.items()},
        chosen_threshold=base.answerer().refusal_threshold,
        library=str(library_dir),
    )
    if out is not None:
        write_report(report, Path(out))
    return report


class GoldKeys:
    """An article matches a gold id by its id, its record id or its file name."""

    def __init__(self, articles):
        self.keys = {
            a.id: [k for k in (a.origin_key, a.id, os.path.basename(a.origin or "")) if k]
            for a in articles
        }
        self.all_keys = {k for keys in self.keys.values() for k in keys}
        self.articles_by_key: dict[str, list[str]] = {}
        for article_id, keys in self.keys.items():
            for key in keys:
                self.articles_by_key.setdefault(key, []).append(article_id)

    def __call__(self, article_id: str) -> list[str]:
        return self.keys.get(article_id, [article_id])

    def articles(self, gold_ids: Sequence[str]) -> list[str]:
        """The ids of the library's articles that the gold ids name."""
        found = (a for key in gold_ids for a in self.articles_by_key.get(key, ()))
        return list(dict.fromkeys(found))


def _gold_keys(engine) -> GoldKeys:
    return GoldKeys(engine.library.articles())


def _system(config: Config, base, library_dir: Path, baseline_cache: Path):
    if config.name == BASELINE:
        return BaselinePipeline(base, cache_dir=baseline_cache)
    try:
        return rag.open_engine(library_dir, **config.overrides)
    except Exception as error:  # pydantic ValidationError names the bad key
        raise EvalError(f"--config {config.name}: {error}") from None


def _config_key(config: Config, system) -> str:
    """Cached answers are reused for the same configuration, result format and answerer
    version (a retrained reader answers differently under the same name)."""
    version = system.version if config.name == BASELINE else system.answerer().version
    blob = json.dumps(
        [config.name, config.overrides, RESULT_FORMAT, version], sort_keys=True, default=str
    )
    return f"{config.name}-{hashlib.sha256(blob.encode()).hexdigest()[:8]}"


def _library_key(engine) -> str:
    """Answers are only reusable for the same library at the same generation."""
    text = f"{Path(engine.library.data_dir).resolve()}|{engine.library.generation}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _read_cache(path: Path) -> dict[str, dict[str, Any]]:
    cached: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                cached[row["id"]] = row
            except (json.JSONDecodeError, KeyError):
                continue  # a line cut by a kill: that question is simply asked again
    return cached


def _append_cache(path: Path, result: QuestionResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(result)) + "\n")


def default_cache() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "newsrag" / "eval"
