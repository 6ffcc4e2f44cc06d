"""Plain data passed between stages. JSON-able via pydantic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

# Embedding cosine of one text against several (``LocalEmbedding.similarity``).
Similarity = Callable[[str, list[str]], list[float]]


class Article(BaseModel):
    """One cleaned article, as stored in the docstore."""

    id: str
    title: str
    body: str
    source: str | None = None
    url: str | None = None
    author: str | None = None
    published_date: date | None = None  # unknown stays None: never invented
    content_hash: str  # normalised title + body: the same story is stored once
    version: str  # content + metadata: a changed date re-versions the chunks too
    origin: str | None = None  # file path or URL it came from
    origin_key: str | None = None  # record id inside a multi-article file, if any
    ingested_at: str | None = None
    chunk_count: int = 0
    notes: list[str] = Field(default_factory=list)  # e.g. "summary only: linked page unreachable"


class Chunk(BaseModel):
    """A passage of an article body: ``article.body[start:end] == text``."""

    id: str
    article_id: str
    index: int
    start: int
    end: int
    text: str
    embed_text: str  # header (title, date) + text: what the model sees


def day_number(value: date) -> int:
    """Days since 0001-01-01, an integer Chroma can range-filter on."""
    return value.toordinal()


class Passage(BaseModel):
    """A retrieved chunk with its article's metadata and how it was found."""

    chunk_id: str
    article_id: str
    title: str
    source: str | None = None
    url: str | None = None
    author: str | None = None
    published_date: date | None = None
    text: str
    start: int  # offsets of ``text`` in the article body
    end: int
    score: float = 0.0  # fused retrieval score
    dense_rank: int | None = None
    keyword_rank: int | None = None


class Outlet(BaseModel):
    """Another outlet that carried a stored article's story (a syndicated copy)."""

    url: str
    source: str | None = None
    title: str | None = None
    published_date: date | None = None


class Citation(BaseModel):
    """A numbered source for the answer: the exact supporting sentence and where it is."""

    n: int
    article_id: str
    chunk_id: str
    title: str
    source: str | None = None
    url: str | None = None
    published_date: date | None = None
    quote: str  # the supporting sentence, verbatim from the article body
    start: int  # offsets of ``quote`` in the article body
    end: int
    score: float  # how well the quote supports the cited statement (0..1)
    passage: str = ""  # the retrieved passage around the quote (for display)
    passage_start: int = 0
    outlets: list[Outlet] = Field(default_factory=list)  # others that carried the story


class Retrieved(BaseModel):
    """A progress step of ``engine.stream``: the passages are found, the answerer starts."""

    passages: int
    articles: int
    answerer: str
    # How long the answerer should take, from the prompt's size and its measured speed (an
    # LLM's; None for the extractive answerer, or before the LLM's first answer is timed).
    expected_s: float | None = None


@dataclass(frozen=True)
class AskOptions:
    """How a question is asked: built once from the keywords of ``ask``, ``stream``,
    ``chat``, ``stream_chat`` and ``answer_context`` (or given whole as ``options=``) and
    passed down as one object, so a new option is added here and nowhere else.

    Values are kept as given and checked where they are used (``rag.plan``), whose errors
    name the bad one."""

    as_of: date | str | None = None  # answer as of this day (later articles hidden)
    sources: Sequence[str] | None = None  # only these sources (None: every source)
    since: date | str | None = None  # published on or after
    until: date | str | None = None  # published on or before
    answerer: str | None = None  # "extractive", "llm" (None: the configured one)
    all_dates: bool = False  # ignore the question's time words and since/until
    article: str | None = None  # answer from every passage of this article alone
    # Articles (ids) searched as if the library did not hold them: what it would answer
    # without them (eval asks a question with its gold articles held out, an unanswerable one).
    exclude: Sequence[str] | None = None

    @classmethod
    def build(cls, options: AskOptions | None = None, **keywords: Any) -> AskOptions:
        """``options`` with ``keywords`` over it; an unknown keyword is a ``ValueError``
        naming it."""
        known = {f.name for f in fields(cls)}
        if unknown := sorted(set(keywords) - known):
            raise ValueError(f"unknown option {unknown[0]!r} (options: {', '.join(sorted(known))})")
        for name in ("sources", "exclude"):
            if isinstance(keywords.get(name), list):  # a frozen object holds a tuple
                keywords[name] = tuple(keywords[name])
        return replace(options or cls(), **keywords)


class SearchScope(BaseModel):
    """What was searched for an answer, so a person can see why an article was not used and
    widen the search (``ask(..., all_dates=True, sources=None)``)."""

    published_from: date | None = None  # inclusive; None: no lower bound
    published_to: date | None = None  # inclusive; at most the answer's as_of
    time_expression: str | None = None  # the question's words that set the dates ("this week")
    # The expression's own dates held nothing, so wider ones were searched (or, when every
    # wider window was empty too, all dates: published_from is then None).
    widened: bool = False
    sources: list[str] = Field(default_factory=list)  # [] = every source
    article: str | None = None  # the title of the one article searched (``ask(article=...)``)

    @property
    def narrowed(self) -> bool:
        """Whether anything beyond "as of" limited the search (a retry could find more)."""
        return self.published_from is not None or bool(self.sources) or bool(self.article)

    def describe(self) -> str:
        """One line for people: "articles published 2023-01-14 to 2023-01-20 ("this week")"."""
        if self.article:
            return f"every passage of \u201c{self.article}\u201d"
        if self.published_from and self.published_to:
            dates = f"published {self.published_from} to {self.published_to}"
        elif self.published_from:
            dates = f"published since {self.published_from}"
        elif self.published_to:
            dates = f"published up to {self.published_to}"
        else:
            dates = "of any date"
        if self.time_expression:
            how = "widened from" if self.widened else "from"
            dates += f" ({how} \u201c{self.time_expression}\u201d)"
        where = f" from {', '.join(self.sources)}" if self.sources else ""
        return f"articles {dates}{where}"


class Answer(BaseModel):
    """What ``engine.ask`` returns. ``model_dump(mode="json")`` is JSON-safe."""

    question: str
    text: str  # with [n] markers
    short_answer: str | None = None
    refused: bool = False
    citations: list[Citation] = Field(default_factory=list)
    closest: list[Passage] = Field(default_factory=list)  # shown with refusals
    # A refusal's closest article whose title holds the question's terms: it may answer when
    # read whole (``ask(question, article=may_answer)``, the window's one-click retry).
    may_answer: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)  # ms per stage
    answerer: str = "extractive"
    as_of: date | None = None
    searched: SearchScope = Field(default_factory=SearchScope)
    # How sure the answerer was, on the scale of its refusal threshold (None: no calibrated
    # score, as with an LLM, or nothing was retrieved).
    confidence: float | None = None
    debug: dict[str, object] = Field(default_factory=dict)

    # Never in the JSON (``exclude``), read from Python: every passage retrieved for the
    # question, best first (retrieval metrics, LlamaIndex source nodes), and what a refusal
    # below the threshold withheld (the eval's refusal sweep).
    retrieved: list[Passage] = Field(default_factory=list, exclude=True)
    withheld_text: str | None = Field(default=None, exclude=True)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)
