"""Step 4 of a question: verify the answerer's draft and compose the ``Answer``, or a refusal.

Every statement of the draft is checked against the passages (``rag.cite.verify``); what no
passage supports is dropped, and a draft with nothing left becomes a refusal that lists the
closest articles instead.
"""

from __future__ import annotations

from typing import Any

from rag.answer.base import AnswerContext, Draft
from rag.cite import verify
from rag.lexicon import Weights, terms
from rag.plan import QueryPlan
from rag.retrieve import SearchResult
from rag.text import first_sentence
from rag.types import Answer, Passage, SearchScope, Similarity

REFUSAL = "The articles in the library don't answer this question."
CLOSEST_ARTICLES = 3  # a refusal lists this many of the nearest articles, one passage each
# A "closest" article must hold this share of what makes the question specific (its terms,
# weighted by rarity): nearest by rank alone listed the Doomsday Clock for a question about a
# Russian missile strike. Half: the question's rarest word, or most of its ordinary ones.
CLOSEST_MIN_SHARE = 0.5
# A closest article whose *title* holds this share of them is offered as one that may answer
# when read whole ("Who did the Eagles sign to a record contract?" refused with "Winners and
# losers of Jalen Hurts' record contract include Eagles" first, #26): its title is about what
# was asked, its best passages just didn't say it. Two thirds: most of the question, by rarity.
TITLE_MIN_SHARE = 2 / 3


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
        "searched": search_scope(plan, search),
        "retrieved": search.passages,
        "debug": debug,
    }
    if draft is not None:
        debug["answerer"] = draft.debug
        common |= {"confidence": draft.confidence, "withheld_text": draft.withheld_text}
    whole_article = search.article_title is not None  # no second chance to offer
    if draft is None or draft.refused or not draft.text.strip():
        return refusal(plan.retrieval_query, context, common, whole_article)
    verified = verify(draft.text, context.passages, context.weight, similarity)
    debug["verification"] = {"dropped": verified.dropped, "moved": verified.moved}
    if verified.refused:
        return refusal(plan.retrieval_query, context, common, whole_article)
    # The short answer leads the answer, so the answer must start with the sentence that says
    # it: verification may have dropped or moved that sentence.
    short = draft.short_answer
    said = draft.short_answer_span or short
    if said and said.lower() not in first_sentence(verified.text).lower():
        short = None
    return Answer(
        text=verified.text,
        short_answer=short,
        citations=verified.citations,
        **common,
    )


def search_scope(plan: QueryPlan, search: SearchResult) -> SearchScope:
    """What the search was limited to, in a person's terms."""
    filters = search.filters or plan.filters
    return SearchScope(
        published_from=filters.first_day,
        published_to=filters.last_day,
        time_expression=plan.window.expression if plan.window else None,
        widened=search.widened,
        sources=list(filters.sources or []),
        article=search.article_title,
    )


# Words of the asking, not of the topic (bm25s's 33 stopwords leave them in): "What did the
# mayor do?" is about "mayor" alone.
ASKING_WORDS = frozenset(
    terms(
        "what who whom whose which when where why how did do does were has have had tell me "
        "about happened happen say said news latest"
    )
)


def key_terms(question: str, passage_terms: list[set[str]]) -> set[str]:
    """The question's topic terms that the retrieved passages know at all (a word no passage
    holds can't make one of them closer than another)."""
    return (set(terms(question)) - ASKING_WORDS) & set().union(*passage_terms)


def shares_key_terms(keys: set[str], found_in: set[str], weight: Weights) -> bool:
    """Do the terms ``found_in`` a text hold at least CLOSEST_MIN_SHARE of ``keys``, weighted
    by rarity?"""
    return _weighted_share(keys, found_in, weight) >= CLOSEST_MIN_SHARE


def _weighted_share(keys: set[str], found_in: set[str], weight: Weights) -> float:
    total = sum(weight(term) for term in keys)
    return sum(weight(term) for term in keys & found_in) / total if total > 0 else 0.0


def refusal(
    question: str, context: AnswerContext, common: dict[str, Any], whole_article: bool = False
) -> Answer:
    """ "The articles don't answer", with the first passage of the nearest articles that share
    the question's key terms (none: nothing close was found), and the first of them whose
    title holds the question's terms as one that may answer when read whole (unless a whole
    article was just read)."""
    passage_terms = [set(terms(f"{p.title} {p.text}")) for p in context.passages]
    keys = key_terms(question, passage_terms)
    best_per_article: dict[str, Passage] = {}
    # In rank order: the first passage of each article.
    for passage, found_in in zip(context.passages, passage_terms, strict=True):
        if passage.article_id not in best_per_article and shares_key_terms(
            keys, found_in, context.weight
        ):
            best_per_article[passage.article_id] = passage
    closest = list(best_per_article.values())[:CLOSEST_ARTICLES]
    titled = [
        p.article_id
        for p in closest
        if _weighted_share(keys, set(terms(p.title)), context.weight) >= TITLE_MIN_SHARE
    ]
    may_answer = titled[0] if titled and not whole_article else None
    return Answer(text=REFUSAL, refused=True, closest=closest, may_answer=may_answer, **common)
