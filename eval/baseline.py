"""The naive LlamaIndex quickstart pipeline, as the yardstick every report compares against.

``VectorStoreIndex`` over the library's articles with LlamaIndex's default ``SentenceSplitter``
(1024-token chunks: the 256-word-piece model silently truncates them, which is the point),
dense retrieval only, top-2, the same embedding model; the answer is the sentence of the top
chunk closest to the question. It never refuses.
"""

from __future__ import annotations

import time
from pathlib import Path

from llama_index.core import Document, StorageContext, VectorStoreIndex, load_index_from_storage
from llama_index.core.node_parser import SentenceSplitter

import rag
from rag import Answer, Citation, Passage, sentence_spans

TOP_K = 2  # what the quickstart answers from
RANKING_K = 5  # what retrieval metrics (hit@5) look at


class BaselinePipeline:
    name = "baseline"

    def __init__(self, engine: rag.NewsQueryEngine, cache_dir: Path | None = None):
        self.engine = engine
        self.embed_model = engine.embed_model
        self.index = self._index(cache_dir)
        self.bodies = {a.id: a.body for a in engine.library.articles()}

    def _index(self, cache_dir: Path | None) -> VectorStoreIndex:
        generation = self.engine.library.generation
        folder = cache_dir / f"baseline-gen-{generation}" if cache_dir else None
        if folder is not None and (folder / "docstore.json").is_file():
            storage = StorageContext.from_defaults(persist_dir=str(folder))
            return load_index_from_storage(storage, embed_model=self.embed_model)
        documents = [
            Document(text=a.body, doc_id=a.id, metadata={"article_id": a.id, "title": a.title})
            for a in self.engine.library.articles()
        ]
        nodes = SentenceSplitter().get_nodes_from_documents(documents)
        index = VectorStoreIndex(nodes, embed_model=self.embed_model, show_progress=False)
        if folder is not None:
            index.storage_context.persist(persist_dir=str(folder))
        return index

    @property
    def version(self) -> str:
        """Which computation answers (eval's answer cache): its sentence cosine may run in
        bfloat16 (``answer_precision``), and a near tie may then go the other way."""
        return f"{self.name}/bfloat16" if self.embed_model.similarity_bfloat16 else self.name

    def retrieve(self, question: str, k: int) -> list:
        return self.index.as_retriever(similarity_top_k=k).retrieve(question)

    def ask(self, question: str, **_: object) -> Answer:
        started = time.perf_counter()
        ranking = [self._passage(n) for n in self.retrieve(question, RANKING_K)]
        passages = ranking[:TOP_K]
        answer = Answer(question=question, text="", refused=True, answerer=self.name)
        if passages:
            top = passages[0]
            spans = sentence_spans(top.text) or [(0, len(top.text))]
            sentences = [top.text[s:e] for s, e in spans]
            scores = self.embed_model.similarity(question, sentences)
            best = max(range(len(spans)), key=scores.__getitem__)
            start, end = spans[best]
            quote = sentences[best]
            answer = Answer(
                question=question,
                text=f"{quote} [1]",
                answerer=self.name,
                citations=[
                    Citation(
                        n=1, article_id=top.article_id, chunk_id=top.chunk_id, title=top.title,
                        quote=quote, start=top.start + start, end=top.start + end,
                        score=float(scores[best]), passage=top.text, passage_start=top.start,
                    )
                ],
            )  # fmt: skip
        answer.retrieved = ranking
        answer.timings = {"total": round((time.perf_counter() - started) * 1000, 1)}
        return answer

    def _passage(self, node) -> Passage:
        article_id = node.node.metadata["article_id"]
        body = self.bodies.get(article_id, "")
        text = node.node.get_content()
        start = max(body.find(text[:200]), 0)
        return Passage(
            chunk_id=node.node.node_id,
            article_id=article_id,
            title=node.node.metadata.get("title", ""),
            text=text,
            start=start,
            end=start + len(text),
            score=float(node.score or 0.0),
        )
