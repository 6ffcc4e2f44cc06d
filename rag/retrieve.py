"""Step 2 of a question: hybrid retrieval, dense (Chroma) + BM25 (tantivy, ``rag.keyword``).

The two rankings are fused by reciprocal rank, then dates weigh in (a ``boost`` window lifts
its articles, the recency prior discounts older ones), then each article keeps at most
``max_chunks_per_article`` passages. Each of those is a small function of plain data below.
Filters (sources, publication-day range) apply inside both searches, so a filtered query
still gets ``candidates`` results from each side. Only chunks committed in the docstore come
back. A time expression's window that holds nothing is widened (``search_plan``).
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.dates import DateWindow, RecencyPrior, publication_window
from rag.filters import SearchFilters
from rag.keyword import KeywordIndex, Selection
from rag.models import LocalEmbedding
from rag.plan import QueryPlan
from rag.settings import Settings
from rag.store import Library, chunk_ids
from rag.types import Article, Passage

RRF_K = 60  # the usual constant: ranks matter, raw scores (cosine vs BM25) don't mix
OVERFETCH = (10, 50)  # plain dense results fetched per filtered one wanted (see dense_ids)
# A filter admitting at most this many chunks ranks their vectors exactly, read from the
# docstore's copies: ~12 us a chunk at 1M (5,000: 60 ms; a week's 1,500-3,800: 7-40 ms) against
# 80-190 ms for Chroma given the same ids; at 10,000 (125 ms) Chroma's 84 ms wins.
EXACT_LIMIT = 5000
# Up to this many admitted chunks, Chroma is given their ids instead of a metadata filter:
# 8-58 ms against 90-316 ms for its `where` at 55k chunks (227 to 48,021 ids), same results.
# Past it, listing and sending the ids would cost more than the filter saves.
ID_FILTER_LIMIT = 100_000
# A boosted article gains this share of a first-place vote (1 / (RRF_K + 1)): enough to lift
# it over an equal-ranked article outside the window, not over a clearly better one.
BOOST_SHARE = 0.5
WIDENING = (2, 4)  # an empty date window is retried this many times wider, then dropped
Mode = Literal["hybrid", "dense", "keyword"]


@dataclass
class SearchResult:
    passages: list[Passage]
    dense_ms: float = 0.0
    keyword_ms: float = 0.0
    debug: dict[str, Any] = field(default_factory=dict)
    # The window that was searched when a time expression's own window held nothing: a wider
    # one, or None when every window came back empty and the search ran without one.
    searched_window: DateWindow | None = None
    widened: bool = False
    filters: SearchFilters | None = None  # what this search was limited to
    article_title: str | None = None  # searched one article alone (``search_article``)

    def widened_to(self) -> dict[str, str] | str | None:
        """How the answer's debug info reports widening: None, the window, or "none"."""
        if not self.widened:
            return None
        return self.searched_window.to_dict() if self.searched_window else "none"


# ------------------------------------------------------------------------- ranking steps
def fuse(rankings: Sequence[Sequence[str]], rrf_k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: each ranking gives its rank-r item 1 / (rrf_k + r + 1)."""
    scores: dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking):
            scores[chunk_id] += 1.0 / (rrf_k + rank + 1)
    return dict(scores)


def boost(
    scores: Mapping[str, float], chunks: Mapping[str, Passage], window: DateWindow, lift: float
) -> dict[str, float]:
    """``lift`` added to the chunks published inside ``window``."""
    return {
        chunk_id: score + lift if window.contains(chunks[chunk_id].published_date) else score
        for chunk_id, score in scores.items()
        if chunk_id in chunks
    }


def discount(
    scores: Mapping[str, float], chunks: Mapping[str, Passage], prior: RecencyPrior
) -> dict[str, float]:
    """Each score times the recency weight of its chunk's publication date."""
    return {
        chunk_id: score * prior.weight(chunks[chunk_id].published_date)
        for chunk_id, score in scores.items()
        if chunk_id in chunks
    }


def cap_per_article(
    chunks: Mapping[str, Passage], scores: Mapping[str, float], per_article: int, top_k: int
) -> list[str]:
    """The ``top_k`` best chunk ids, at most ``per_article`` from one article. Ties keep the
    order of ``chunks``."""
    chosen: list[str] = []
    per_article_count: dict[str, int] = defaultdict(int)
    for chunk_id in sorted(chunks, key=lambda c: -scores[c]):
        article_id = chunks[chunk_id].article_id
        if per_article_count[article_id] >= per_article:
            continue
        per_article_count[article_id] += 1
        chosen.append(chunk_id)
        if len(chosen) >= top_k:
            break
    return chosen


# ------------------------------------------------------------------------- the retriever
class HybridRetriever(BaseRetriever):
    """A LlamaIndex retriever; ``search`` is the same with filters and per-article limits."""

    def __init__(
        self,
        library: Library,
        embed_model: LocalEmbedding,
        settings: Settings,
        mode: Mode = "hybrid",
    ):
        super().__init__()
        self.library = library
        self.embed_model = embed_model
        self.settings = settings
        self.mode = mode

    def dense_ids(self, query: str, filters: SearchFilters, k: int) -> list[str]:
        """Chroma's nearest chunks that pass the filters (see ``_dense``)."""
        index = self.library.keyword_index()
        selection = index.select(filters.day_range(), filters.sources)
        return self._dense(query, filters, k, index, selection)

    def _dense(
        self,
        query: str,
        filters: SearchFilters,
        k: int,
        index: KeywordIndex,
        selection: Selection | None,
    ) -> list[str]:
        """Chroma's nearest chunks that ``selection`` (the filters over the keyword index,
        which catalogues every committed chunk) admits.

        Chroma's own filtered query is slow: 90-316 ms at 55k chunks, 2.9 s for a week at 1M
        (it evaluates the metadata filter over every chunk). So a selective filter ("this
        week": a few thousand chunks at 1M) ranks the vectors it admits exactly, reading
        the docstore's copies (7-40 ms for a week at 1M); a broad one over-fetches a plain
        query and filters here, which whenever at least ``k`` fetched chunks pass is exactly
        the filtered top k. What falls between gives Chroma the admitted chunks' ids: 8-58 ms
        at 55k, 80-200 ms for 2,500-11,000 ids among 1M chunks behind a server (47-50 of the
        exact top 50).
        """
        vector = self.embed_model.get_query_embedding(query)
        collection = self.library.collection
        admitted, total = index.count(selection), len(index)
        if selection is None or admitted == total:  # no filter, or one that excludes nothing
            return _ids(collection.query(query_embeddings=[vector], n_results=k, include=[]))
        selective = admitted * OVERFETCH[0] <= total  # over-fetching would come back short
        if selective and admitted <= EXACT_LIMIT:
            return self._exact(vector, index.ids(selection, EXACT_LIMIT), k)
        for factor in OVERFETCH:
            if admitted * factor < total:  # k * factor fetched would hold < k admitted ones
                continue  # (at 1M chunks a week's 0.3% wasted 40 ms on both tries)
            wanted = k * factor
            found = collection.query(query_embeddings=[vector], n_results=wanted, include=[])
            fetched = _ids(found)
            kept = index.keep(fetched, selection)
            if len(kept) >= k or len(fetched) < wanted:  # enough, or nothing more exists
                return kept[:k]
        if admitted <= ID_FILTER_LIMIT:
            from chromadb.errors import ChromaError

            try:
                found = collection.query(
                    query_embeddings=[vector],
                    n_results=k,
                    ids=index.ids(selection, admitted),
                    include=[],
                )
                return _ids(found)
            except ChromaError:  # an id whose vector a concurrent update just deleted
                pass
        where = filters.chroma_where(self.library.carried_by(filters.sources))
        found = collection.query(query_embeddings=[vector], n_results=k, where=where, include=[])
        return _ids(found)

    def _exact(self, vector: list[float], chunk_ids: list[str], k: int) -> list[str]:
        """The ``k`` of ``chunk_ids`` nearest to ``vector`` by cosine (vectors are unit-length)."""
        stored = self.library.chunk_vectors(chunk_ids, len(vector))
        if missing := [i for i in chunk_ids if i not in stored]:  # before schema 2, or damaged
            found = self.library.collection.get(ids=missing, include=["embeddings"])
            stored.update(zip(found["ids"], np.asarray(found["embeddings"]), strict=True))
        ranked = [i for i in chunk_ids if i in stored]
        if not ranked:
            return []
        matrix = np.stack([stored[i] for i in ranked]).astype(np.float32)
        best = np.argsort(-(matrix @ np.asarray(vector, dtype=np.float32)), kind="stable")[:k]
        return [ranked[i] for i in best]

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        top_k: int | None = None,
        per_article: int | None = None,
    ) -> SearchResult:
        filters = filters or SearchFilters()
        top_k = top_k or self.settings.top_k
        per_article = per_article or self.settings.max_chunks_per_article
        k = self.settings.candidates
        excluded = filters.excluded_chunks
        fetched = k + len(excluded)  # k left once they are dropped, as in a library without them
        index = self.library.keyword_index()  # one state of the library for both searches
        selection = index.select(filters.day_range(), filters.sources)  # and one filter
        result = SearchResult(passages=[])
        dense: list[str] = []
        lexical: list[str] = []
        if self.mode in ("hybrid", "dense"):
            started = time.perf_counter()
            dense = self._dense(query, filters, fetched, index, selection)
            dense = [chunk_id for chunk_id in dense if chunk_id not in excluded][:k]
            result.dense_ms = (time.perf_counter() - started) * 1000
        if self.mode in ("hybrid", "keyword"):
            started = time.perf_counter()
            lexical = [chunk_id for chunk_id, _ in index.search(query, fetched, selection)]
            lexical = [chunk_id for chunk_id in lexical if chunk_id not in excluded][:k]
            result.keyword_ms = (time.perf_counter() - started) * 1000

        scores = fuse([dense, lexical])
        chunks = self.library.stored_chunks(scores)  # drops anything not committed
        if filters.boost is not None:
            scores = boost(scores, chunks, filters.boost, BOOST_SHARE / (RRF_K + 1))
        if filters.recency is not None:
            scores = discount(scores, chunks, filters.recency)
        dense_rank = {chunk_id: rank for rank, chunk_id in enumerate(dense)}
        keyword_rank = {chunk_id: rank for rank, chunk_id in enumerate(lexical)}
        result.passages = [
            chunks[chunk_id].model_copy(
                update={
                    "score": scores[chunk_id],
                    "dense_rank": dense_rank.get(chunk_id),
                    "keyword_rank": keyword_rank.get(chunk_id),
                }
            )
            for chunk_id in cap_per_article(chunks, scores, per_article, top_k)
        ]
        result.debug = {"dense_hits": len(dense), "keyword_hits": len(lexical)}
        return result

    def search_plan(self, plan: QueryPlan) -> SearchResult:
        """Search for a planned question; a time expression's window that holds nothing is
        retried ``WIDENING`` times wider, then dropped (the result says so)."""
        window = plan.window
        if window is None or window.use == "boost":
            result = self.search(plan.retrieval_query, plan.filters)
            result.filters = plan.filters
            return result
        attempts = [window] + [window.widened(f, plan.as_of) for f in WIDENING] + [None]
        for attempt in attempts:
            trial = dataclasses.replace(plan.filters)  # every filter kept; only the days change
            if attempt is not None:
                first, last = publication_window(attempt, plan.as_of)
                trial.first_day, trial.last_day = first, min(last, plan.filters.last_day or last)
            result = self.search(plan.retrieval_query, trial)
            result.searched_window, result.widened = attempt, attempt is not window
            result.filters = trial
            if result.passages:
                return result
        return result

    def search_article(self, plan: QueryPlan, article: Article) -> SearchResult:
        """Every passage of one article, nearest to the question first: a refusal's "ask this
        article" (its title held the question's terms, but its best passages did not reach
        the answer). Nothing when it was published after the plan's last day (hidden as of
        that date)."""
        last_day = plan.filters.last_day
        result = SearchResult(passages=[], filters=plan.filters)
        if last_day and (article.published_date or last_day) > last_day:
            return result
        started = time.perf_counter()
        ids = chunk_ids(article.id, article.version, article.chunk_count)
        vector = self.embed_model.get_query_embedding(plan.retrieval_query)
        ranked = self._exact(vector, ids, len(ids))
        result.dense_ms = (time.perf_counter() - started) * 1000
        chunks = self.library.stored_chunks(ranked)
        result.passages = [
            chunks[chunk_id].model_copy(update={"score": 1.0 / (RRF_K + rank + 1),
                                                "dense_rank": rank})
            for rank, chunk_id in enumerate(ranked)
            if chunk_id in chunks
        ]  # fmt: skip
        result.article_title = article.title
        result.debug = {"article": article.id, "dense_hits": len(ranked)}
        return result

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [to_node(p) for p in self.search(query_bundle.query_str).passages]


def _ids(found: dict[str, Any]) -> list[str]:
    return found["ids"][0] if found["ids"] else []


def to_node(passage: Passage) -> NodeWithScore:
    metadata = passage.model_dump(mode="json", exclude={"text", "score"})
    node = TextNode(id_=passage.chunk_id, text=passage.text, metadata=metadata)
    return NodeWithScore(node=node, score=passage.score)
