"""What's new: the most covered stories of a period (``newsrag digest``, the chat's panel).

Articles published in the period are grouped into stories (one news event, told by several
articles): each article is represented by its first passage's vector (title, date and lead,
already in the library: no model is run), and joins the story whose first article it is most
similar to, at cosine >= SAME_EVENT_COSINE; otherwise it starts a story. Stories rank by how
many outlets covered them (each article's source and the outlets of syndicated copies), then
by their newest date. Each story's summary is the lead sentence of its most central article,
quoted verbatim with its place in the article, like any citation.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import numpy as np

from rag.errors import NewsragError
from rag.store import Library, chunk_ids
from rag.text import sentence_spans
from rag.types import Article

# Two articles' lead passages at or above this cosine tell the same event. Chosen on the train
# questions' gold articles (articles that answer one question = one event) by
# benchmarks/digest.py: best F1 there (0.688: precision 0.79, recall 0.61); dev F1 0.655.
SAME_EVENT_COSINE = 0.55
STORIES = 10  # listed by default
LEAD_MIN_WORDS = 8  # a story's summary sentence says something, not "Updated 5 p.m."
_PERIOD = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)
_PERIOD_DAYS = {"h": 1 / 24, "d": 1, "w": 7}


class DigestError(NewsragError, ValueError):
    """A period that is not a length (24h, 3d, 2w) or a date; the message names it."""


def period_start(since: str, today: date) -> date:
    """The first day of a period: ``24h`` -> yesterday (articles carry days, not hours),
    ``3d``, ``2w``, or a date (YYYY-MM-DD)."""
    if match := _PERIOD.match(since):
        days = int(match.group(1)) * _PERIOD_DAYS[match.group(2).lower()]
        return today - timedelta(days=max(1, round(days)))  # 24h: since yesterday
    try:
        return date.fromisoformat(since.strip())
    except ValueError:
        raise DigestError(
            f"--since {since!r}: expected a length such as 24h, 3d or 2w, or a date (YYYY-MM-DD)"
        ) from None


@dataclass
class StoryLead:
    """The summary sentence of a story, verbatim from one article (a citation)."""

    article_id: str
    title: str
    quote: str
    start: int
    end: int
    url: str | None = None
    source: str | None = None
    published_date: date | None = None


@dataclass
class Story:
    headline: str
    outlets: list[str]  # every source that carried it, most articles first
    first_day: date | None
    last_day: date | None
    article_ids: list[str]
    lead: StoryLead
    urls: list[str] = field(default_factory=list)

    def coverage(self) -> str:
        """'3 articles · Coast Radio, The Ledger · 2026-11-23 to 2026-11-24'."""
        count = len(self.article_ids)
        days = " to ".join(dict.fromkeys(str(d) for d in (self.first_day, self.last_day) if d))
        outlets = ", ".join(self.outlets) or "source unknown"
        return f"{count} article{'' if count == 1 else 's'} · {outlets} · {days or 'undated'}"

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("first_day", "last_day"):
            data[key] = data[key].isoformat() if data[key] else None
        if data["lead"]["published_date"]:
            data["lead"]["published_date"] = data["lead"]["published_date"].isoformat()
        return data


def lead_of(article: Article) -> StoryLead:
    """The first sentence that states something: not a teaser question ("Looking for updates
    on California storms?") or a dateline fragment."""
    spans = sentence_spans(article.body) or [(0, len(article.body))]
    stating = [
        (start, end) for start, end in spans
        if len(article.body[start:end].split()) >= LEAD_MIN_WORDS
        and not article.body[start:end].rstrip().endswith("?")
    ]  # fmt: skip
    start, end = (stating or spans)[0]
    return StoryLead(article.id, article.title, article.body[start:end], start, end,
                     article.url, article.source, article.published_date)  # fmt: skip


def most_covered(
    library: Library,
    since: date,
    until: date | None = None,
    sources: list[str] | None = None,
    limit: int = STORIES,
) -> list[Story]:
    """The ``limit`` most covered stories published from ``since`` to ``until`` (inclusive),
    of ``sources`` if given (an outlet that carried a copy counts)."""
    until = until or date.max - timedelta(days=1)
    articles = library.articles_published(since, until)
    carried = library.outlets(a.id for a in articles)
    if sources:
        wanted = set(sources)
        articles = [a for a in articles if a.source in wanted
                    or wanted & {o.source for o in carried.get(a.id, [])}]  # fmt: skip
    if not articles:
        return []
    vectors = _lead_vectors(library, articles)
    groups = _group(articles, vectors)
    stories = [_story(group, vectors, carried) for group in groups]
    stories.sort(key=lambda s: (len(s.outlets), len(s.article_ids), s.last_day or date.min),
                 reverse=True)  # fmt: skip
    return stories[:limit]


def _lead_vectors(library: Library, articles: list[Article]) -> dict[str, np.ndarray]:
    first = {chunk_ids(a.id, a.version, 1)[0]: a.id for a in articles if a.chunk_count}
    found = library.collection.get(ids=list(first), include=["embeddings"])
    return {
        first[chunk_id]: np.asarray(vector, dtype=np.float32)
        for chunk_id, vector in zip(found["ids"], found["embeddings"], strict=True)
    }


def _group(articles: list[Article], vectors: dict[str, np.ndarray]) -> list[list[Article]]:
    """Oldest first, each article into the story whose first article is most like it."""
    groups: list[list[Article]] = []
    seeds: list[np.ndarray] = []
    dim = len(next(iter(vectors.values()))) if vectors else 1
    unknown = np.zeros(dim, dtype=np.float32)  # an article without vectors joins no story
    ordered = sorted(articles, key=lambda a: (a.published_date or date.min, a.id))
    for article in ordered:
        vector = vectors.get(article.id)
        if vector is not None and seeds:
            similarity = np.stack(seeds) @ vector
            best = int(np.argmax(similarity))
            if similarity[best] >= SAME_EVENT_COSINE:
                groups[best].append(article)
                continue
        groups.append([article])
        seeds.append(vector if vector is not None else unknown)
    return groups


def _story(group: list[Article], vectors: dict[str, np.ndarray], carried: dict) -> Story:
    known = [a for a in group if a.id in vectors]
    central = group[0]
    if len(known) > 1:  # the article most like the others tells the story best
        matrix = np.stack([vectors[a.id] for a in known])
        central = known[int(np.argmax((matrix @ matrix.T).sum(axis=1)))]
    counts: dict[str, int] = {}
    for article in group:
        for source in [article.source, *(o.source for o in carried.get(article.id, []))]:
            if source:
                counts[source] = counts.get(source, 0) + 1
    days = [a.published_date for a in group if a.published_date]
    urls = [a.url for a in group if a.url]
    urls += [o.url for a in group for o in carried.get(a.id, [])]
    return Story(
        headline=central.title,
        outlets=sorted(counts, key=lambda s: (-counts[s], s)),
        first_day=min(days) if days else None,
        last_day=max(days) if days else None,
        article_ids=[a.id for a in group],
        lead=lead_of(central),
        urls=urls,
    )
