"""The public query API: ``open_engine()`` -> ``NewsQueryEngine``.

A question runs as a straight line of typed steps, each in its own module and testable without
the model: ``rag.plan`` (validate and read the question once: ``QueryPlan``) -> ``rag.retrieve``
(hybrid search, widening an empty date window: ``SearchResult``) -> ``rag.answer`` (an answerer
drafts from the passages: ``Draft``) -> ``rag.compose`` (verify every statement: ``Answer``).
The engine only runs them, times them and picks the answerer.

``engine.query(...)`` is LlamaIndex's (a ``Response`` whose ``source_nodes`` are the cited
chunks); ``ask``/``stream``/``chat`` return or end with our ``Answer``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine

from rag.answer import build_answerer, entities
from rag.answer.base import AnswerContext, Answerer, last_of, relay
from rag.answer.follow_up import conversation_pairs, is_follow_up, rewrite_follow_up
from rag.compose import REFUSAL, compose_answer
from rag.errors import NewsragError
from rag.guard import neutralize
from rag.models import LocalEmbedding, embedding_model
from rag.plan import QueryError, QueryPlan, named_article, normalise_question, plan_query
from rag.retrieve import HybridRetriever, SearchResult, to_node
from rag.settings import Settings, load_settings
from rag.store import DamagedLibrary, Library, chunk_ids
from rag.text import load_splitter
from rag.types import Answer, AskOptions, Retrieved

__all__ = ["REFUSAL", "NewsQueryEngine", "QueryError", "open_engine"]


class NewsQueryEngine(CustomQueryEngine):
    """Hybrid, date-aware retrieval + a pluggable answerer + citation verification."""

    settings: Settings
    library: Library
    retriever: HybridRetriever
    embed_model: LocalEmbedding
    answerers: dict[str, Answerer]  # built on first use, by name

    # ------------------------------------------------------------------ LlamaIndex
    def custom_query(self, query_str: str) -> Response:
        answer = self.ask(query_str)
        cited = {c.chunk_id for c in answer.citations}
        nodes = [to_node(p) for p in answer.retrieved if p.chunk_id in cited]
        return Response(response=answer.text, source_nodes=nodes, metadata={"answer": answer})

    # ------------------------------------------------------------------ our API
    def ask(self, question: str, options: AskOptions | None = None, **keywords: Any) -> Answer:
        """The verified answer. Keywords (or ``options``, an ``AskOptions``): ``as_of``,
        ``sources``, ``since``, ``until``, ``answerer``; ``all_dates``: ignore the question's
        time expression and since/until (every date up to ``as_of``), as a refusal's retry
        does; ``article``: an article's id (or unique id prefix, or URL): answer from every
        passage of it alone, as a refusal's ``may_answer`` suggests."""
        return last_of(self.stream(question, options, **keywords), Answer)

    def stream(
        self, question: str, options: AskOptions | None = None, **keywords: Any
    ) -> Iterator[str | Retrieved | Answer]:
        """``Retrieved`` once the passages are found, text pieces while the answer is produced,
        then the verified ``Answer``.

        For the LLM answerer the streamed text is the raw generation, not yet verified: the
        final Answer holds the verified text (unsupported statements removed), which replaces
        it. Show it as unverified, or wait for the Answer.
        """
        started = time.perf_counter()
        options = _options(options, keywords)
        plan = plan_query(question, self.library, self.settings, options)
        chosen = self.answerer(options.answerer)
        search = self._search(plan, options)
        timings = {
            "retrieve": _ms(started),
            "dense": round(search.dense_ms, 1),
            "keyword": round(search.keyword_ms, 1),
        }
        context = self._context(plan, search)
        articles = len({p.article_id for p in search.passages})
        yield Retrieved(
            passages=len(search.passages), articles=articles, answerer=chosen.name,
            expected_s=chosen.expected_seconds(context) if search.passages else None,
        )  # fmt: skip
        answer_started = time.perf_counter()
        draft = (yield from relay(chosen.stream(context))) if search.passages else None
        timings["answer"] = _ms(answer_started)

        verify_started = time.perf_counter()
        paraphrase_check = None if chosen.quotes_verbatim else self.embed_model.similarity
        answer = compose_answer(plan, chosen.name, context, search, draft, paraphrase_check)
        carried = self.library.outlets(c.article_id for c in answer.citations)
        for citation in answer.citations:  # a wire story: every outlet that ran it
            citation.outlets = carried.get(citation.article_id, [])
        timings["verify"] = _ms(verify_started)
        timings["total"] = _ms(started)
        answer.timings = timings
        answer.debug["retrieval"] = search.debug
        yield answer

    def _search(self, plan: QueryPlan, options: AskOptions) -> SearchResult:
        if options.article is None:
            return self.retriever.search_plan(plan)
        article = named_article(self.library, options.article, "article")
        if plan.filters.excluded_chunks.intersection(
            chunk_ids(article.id, article.version, article.chunk_count)
        ):
            raise QueryError(f"article {options.article!r}: it is among the excluded articles")
        return self.retriever.search_article(plan, article)

    def answer_context(
        self, question: str, options: AskOptions | None = None, **keywords: Any
    ) -> AnswerContext:
        """What an answerer is given for ``question``: planned and retrieved exactly as
        ``ask`` does (the reader is trained on these, eval/train_reader.py)."""
        options = _options(options, keywords)
        plan = plan_query(question, self.library, self.settings, options)
        return self._context(plan, self._search(plan, options))

    def _context(self, plan: QueryPlan, search: SearchResult) -> AnswerContext:
        return AnswerContext(
            question=plan.question,
            retrieval_query=plan.retrieval_query,
            passages=[neutralize(p) for p in search.passages],
            kind=plan.kind,
            entity_labels=plan.entity_labels,
            weight=self.library.term_weights(),
            similarity=self.embed_model.similarity,
            recency=plan.filters.recency,
            answer_noun=plan.answer_noun,
            boost=plan.filters.boost,
        )

    def chat(
        self,
        history: Sequence[Any],
        message: str,
        options: AskOptions | None = None,
        **keywords: Any,
    ) -> Answer:
        """Answer a follow-up: rewritten into a standalone question from the history first.

        ``history``: (user, assistant) pairs (the assistant's part text or its ``Answer``),
        or chat messages ({"role", "content"} dicts). Options: those of ``ask``.
        """
        return last_of(self.stream_chat(history, message, options, **keywords), Answer)

    def stream_chat(
        self,
        history: Sequence[Any],
        message: str,
        options: AskOptions | None = None,
        **keywords: Any,
    ) -> Iterator[str | Retrieved | Answer]:
        """``chat`` as a stream: text pieces, then the ``Answer`` (as ``stream`` does)."""
        options = _options(options, keywords)
        message = normalise_question(message, self.settings)
        try:
            pairs = conversation_pairs(history)
        except ValueError as error:
            raise QueryError(str(error)) from None
        chosen = self.answerer(options.answerer)
        # A question that stands alone is asked as it is: the history enters only through
        # the rewrite of a follow-up (an LLM rewrite of "Who did the Eagles sign?" after a
        # Masters question carried the Masters into it, #26).
        standalone = message
        if pairs and is_follow_up(message):
            standalone = chosen.rewrite(pairs, message) or rewrite_follow_up(pairs, message)
        if len(standalone) > self.settings.max_question_chars:
            # The limit is on what the person wrote (checked above), not on the context the
            # rewrite added: a long rewrite falls back to their own words.
            standalone = message
        for piece in self.stream(standalone, options):
            if isinstance(piece, Answer):
                piece.debug["standalone_question"] = standalone
                piece.question = message
            yield piece

    def answerer(self, name: str | None = None) -> Answerer:
        """The answerer called ``name`` (default: the configured one), built on first use."""
        name = name or self.settings.answerer
        if name not in self.answerers:
            try:
                self.answerers[name] = build_answerer(name, self.settings)
            except NewsragError as error:
                raise QueryError(str(error)) from None
        return self.answerers[name]


def _options(options: AskOptions | None, keywords: dict[str, Any]) -> AskOptions:
    try:
        return AskOptions.build(options, **keywords)
    except ValueError as error:  # an unknown keyword: named, not a TypeError traceback
        raise QueryError(str(error)) from None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def open_engine(
    data_dir: str | None = None, *, settings: Settings | None = None, **overrides: Any
) -> NewsQueryEngine:
    """Open the library at ``data_dir`` (default from settings) for questions.

    ``overrides`` are settings (``top_k=8``, ``answerer="llm"``, ``llm_base_url=...``); or pass
    a whole ``settings`` object. Raises ``LibraryError`` with a clear message if the library is
    missing, and ``DamagedLibrary`` if its vectors disagree with its docstore (`newsrag
    repair` fixes that).
    """
    if settings is None:
        settings = load_settings(data_dir=data_dir, **overrides)
    library = Library(settings, create=False)
    # The damage check counts the vectors, which makes Chroma load its index (3.7 s of a server
    # with 1M chunks); this process loads its models meanwhile. SQLite is left to the check.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="damage-check") as pool:
        damage = pool.submit(library.damage)
        model = embedding_model(settings)
        entities.load()  # the NER model too (0.7 s)
        load_splitter()  # and the sentence splitter (0.8 s)
        problems = damage.result()
    # Answering from half a library would look fine and be wrong: refuse, and say the fix.
    if problems:
        raise DamagedLibrary(f"the library at {library.data_dir} is damaged: {'; '.join(problems)}")
    library.check_embedding(settings.embed_model)
    library.keyword_index()  # open (or build) it now, not on the first question
    answerers: dict[str, Answerer] = {}
    if settings.answerer == "extractive":  # its reader's cross-encoder loads now (~1 s), too
        with contextlib.suppress(NewsragError):  # a bad model file is said at the first question
            answerers["extractive"] = build_answerer("extractive", settings)
    return NewsQueryEngine(
        settings=settings,
        library=library,
        retriever=HybridRetriever(library, model, settings, mode=settings.retrieval_mode),
        embed_model=model,
        answerers=answerers,
    )
