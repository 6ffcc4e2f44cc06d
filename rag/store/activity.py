"""What people and processes leave in the library: feedback, feed subscriptions, run logs."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from rag.store.schema import _now
from rag.subscriptions import Subscriptions


class ActivityPart:
    """What people and processes leave in the library: feedback, feed subscriptions and
    run logs.

    A part of ``Library``: the facade owns the connection (``self._query``,
    ``self._transaction``) and the write protocol."""

    def record_feedback(self, answer: dict[str, Any], helpful: bool) -> None:
        """A person's thumbs up (``helpful``) or down on ``answer`` (an Answer as JSON)."""
        cited = sorted({c["article_id"] for c in answer.get("citations", [])})
        with self._transaction() as db:
            db.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(), answer["question"], answer.get("as_of"), answer.get("answerer", ""),
                    answer["text"], answer.get("short_answer"), int(bool(answer.get("refused"))),
                    json.dumps(cited), int(helpful),
                ),
            )  # fmt: skip

    @functools.cached_property
    def subscriptions(self) -> Subscriptions:
        """The feeds this library is kept current from (``newsrag feeds``)."""
        return Subscriptions(self)

    def feedback(self) -> list[dict[str, Any]]:
        """Every thumbs up/down, oldest first (``newsrag feedback`` exports them)."""
        rows = self._query("SELECT * FROM feedback ORDER BY given_at, rowid")
        return [
            {**dict(row), "refused": bool(row["refused"]), "helpful": bool(row["helpful"]),
             "cited_article_ids": json.loads(row["cited_article_ids"])}
            for row in rows
        ]  # fmt: skip

    def log_run(self, started_at: str, inputs: Sequence[str], summary: dict[str, Any]) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO ingest_runs VALUES (?, ?, ?, ?)",
                (started_at, _now(), json.dumps(list(inputs)), json.dumps(summary)),
            )
