"""Step 4 of a question: verify the answerer's draft and compose the ``Answer``, or a refusal.

Every statement of the draft is checked against the passages (``rag.cite.verify``); what no
passage supports is dropped, and a draft with nothing left becomes a refusal that lists the
closest articles instead.
"""

from __future__ import annotations

from typing import Any

from rag.answer.base import AnswerContext, Draft
from rag.cite import verify
from rag.plan import QueryPlan
from rag.retrieve import SearchResult
from rag.text import first_sentence
from rag.types import Answer, Passage, Similarity

REFUSAL = "The articles in the library don't answer this question."
CLOSEST_ARTICLES = 3  # a refusal lists this many of the nearest articles, one passage each


def compose_answer(
    plan: QueryPlan,
    answerer: str,
    context: AnswerContext,
    search: SearchResult,
    draft: Draft | None,
    similarity: Similarity | None,
) -> Answer:
    """The verified ``Answer`` for ``draft`` (None: nothing was retrieved to answer from).

    ``similarity``: for drafts that paraphrase, the semantic half of the support test; None
    for an answerer that quotes sentences verbatim.
    """
    debug: dict[str, Any] = {
        "answer_type": plan.kind,
        "date_window": plan.window.to_dict() if plan.window else None,
        "widened_to": search.widened_to(),
        "recency": plan.filters.recency.to_dict() if plan.filters.recency else None,
    }
    common: dict[str, Any] = {
        "question": plan.question,
        "answerer": answerer,
        "as_of": plan.as_of,
        "retrieved": search.passages,
        "debug": debug,
    }
    if draft is not None:
        debug["answerer"] = draft.debug
        common |= {"confidence": draft.confidence, "withheld_text": draft.withheld_text}
    if draft is None or draft.refused or not draft.text.strip():
        return refusal(context.passages, common)
    verified = verify(draft.text, context.passages, context.weight, similarity)
    debug["verification"] = {"dropped": verified.dropped, "moved": verified.moved}
    if verified.refused:
        return refusal(context.passages, common)
    # The short answer leads the answer, so the answer must start with the sentence that says
    # it: verification may have dropped or moved that sentence.
    short = draft.short_answer
    if short and short.lower() not in first_sentence(verified.text).lower():
        short = None
    return Answer(
        text=verified.text,
        short_answer=short,
        citations=verified.citations,
        **common,
    )


def refusal(passages: list[Passage], common: dict[str, Any]) -> Answer:
    """ "The articles don't answer", with the first passage of the nearest articles."""
    best_per_article: dict[str, Passage] = {}
    for passage in passages:  # in rank order: the first passage of each article
        best_per_article.setdefault(passage.article_id, passage)
    closest = list(best_per_article.values())[:CLOSEST_ARTICLES]
    return Answer(text=REFUSAL, refused=True, closest=closest, **common)
