"""Gold question files (the format of ../shared/data/realtimeqa-dev/questions.jsonl).

Required per line: ``id``, ``question``, ``answer`` ("<refusal>" when the corpus can't answer),
``question_date`` (YYYY-MM-DD). Optional: ``answerable`` (default: answer != "<refusal>"),
``gold_article_ids``, ``answer_type``, ``relative_time``. Anything else (``mc_choices``,
``quiz_evidence``, ``world_answer``...) is kept for analysis and never given to the engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from eval.errors import EvalError

REFUSAL = "<refusal>"


class DatasetError(EvalError):
    """A question file that can't be used; the message names file and line."""


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answer: str
    question_date: date
    answerable: bool
    gold_article_ids: tuple[str, ...] = ()
    answer_type: str | None = None
    relative_time: bool = False
    location: str = ""  # file:line, for error messages
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def read_lines(path: Path) -> list[str]:
    """The lines of a JSONL file; ``DatasetError`` names the file and what is wrong."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise DatasetError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: invalid UTF-8 at byte {error.start}") from None


def load_questions(path: str | Path) -> list[GoldQuestion]:
    path = Path(path)
    lines = read_lines(path)
    questions: list[GoldQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(f"{where}: malformed JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise DatasetError(f"{where}: expected a JSON object")
        missing = [k for k in ("id", "question", "answer", "question_date") if not record.get(k)]
        if missing:
            raise DatasetError(f"{where}: missing field(s) {', '.join(missing)}")
        qid = str(record["id"])
        if qid in seen:
            raise DatasetError(f"{where}: duplicate id {qid!r} (first on line {seen[qid]})")
        seen[qid] = number
        try:
            asked_on = date.fromisoformat(str(record["question_date"]))
        except ValueError:
            raise DatasetError(
                f"{where}: question_date {record['question_date']!r} is not YYYY-MM-DD"
            ) from None
        gold_ids = record.get("gold_article_ids") or []
        if not isinstance(gold_ids, list):
            raise DatasetError(f"{where}: gold_article_ids must be a list")
        answer = str(record["answer"])
        known = {"id", "question", "answer", "question_date", "answerable", "gold_article_ids",
                 "answer_type", "relative_time"}  # fmt: skip
        questions.append(
            GoldQuestion(
                id=qid,
                question=str(record["question"]),
                answer=answer,
                question_date=asked_on,
                answerable=bool(record.get("answerable", answer != REFUSAL)),
                gold_article_ids=tuple(str(i) for i in gold_ids),
                answer_type=record.get("answer_type"),
                relative_time=bool(record.get("relative_time", False)),
                location=where,
                extra={k: v for k, v in record.items() if k not in known},
            )
        )
    if not questions:
        raise DatasetError(f"{path}: no questions")
    return questions
