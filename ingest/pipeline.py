"""The incremental ingest: load -> clean -> identify -> chunk -> embed -> commit.

Unchanged articles are skipped before any model work; chunks of many articles are embedded in
one batch (the model is the bottleneck; small batches waste it); each batch commits atomically
through ``Library.commit``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest import dedupe
from ingest.chunk import Chunker
from ingest.clean import (
    article_id,
    canonical_url,
    clean_body,
    clean_inline,
    clean_title,
    content_hash,
)
from ingest.dates import parse_published
from ingest.fetch import fetch
from ingest.loaders import (
    AlreadyStored,
    Document,
    InputError,
    LoadFailure,
    LoadOptions,
    LoadResult,
    RawArticle,
    loader_for,
)
from ingest.sources import Input, expand, is_url, read_file
from rag.models import embedding_model, load_tokenizer
from rag.settings import Settings, load_settings
from rag.store import Library, PendingArticle
from rag.types import Article, Chunk, Outlet

MB = 1024 * 1024
# Chunks of this many model batches are embedded and committed together: the encoder sorts a
# call's texts by length, so a bigger call pads less. A crash loses at most one such group.
FLUSH_BATCHES = 8


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    merged: int = 0  # copies of a stored story, kept as another outlet of it
    chunks_embedded: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # "location: reason", one per failure
    notes: list[str] = field(default_factory=list)  # "location: note", e.g. summary-only entries
    titles: list[str] = field(default_factory=list)  # of the articles added or updated

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def articles_seen(self) -> int:
        return self.added + self.updated + self.unchanged

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        merged = f", merged {self.merged} copies" if self.merged else ""
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"removed {self.removed}, failed {self.failed}{merged} "
            f"({self.chunks_embedded} chunks embedded in {self.seconds:.1f} s)"
        )


@dataclass
class Prepared:
    """An article's chunks and their vectors, made before it reached ``IngestRun.admit``."""

    chunks: list[Chunk]
    vectors: list[list[float]]


@dataclass
class Progress:
    """What a progress display needs, passed to ``on_progress`` after each step."""

    articles: int  # seen so far (added + updated + unchanged + failed)
    chunks: int  # embedded so far
    elapsed: float
    current: str


def _identity(raw: RawArticle, url: str | None, text_hash: str) -> str:
    if url:
        return f"url:{url}"
    if raw.identity:
        return f"origin:{raw.identity}"
    return f"hash:{text_hash}"


def prepare(raw: RawArticle, settings: Settings) -> Article:
    """Clean a raw record into an Article; raises InputError when nothing usable is left."""
    body = clean_body(raw.body)
    if not body:
        raise InputError("no article text (empty after cleaning)")
    if len(body) > settings.max_article_chars:
        raise InputError(
            f"article text is {len(body)} characters, over max_article_chars "
            f"({settings.max_article_chars})"
        )
    title = clean_title(raw.title, raw.source) or body.split("\n", 1)[0][:120]
    url = canonical_url(raw.url)
    published = parse_published(raw.published)
    notes = list(raw.notes)
    if raw.published not in (None, "") and published is None:
        notes.append(f"unparseable published date {str(raw.published)[:40]!r} kept as unknown")
    text_hash = content_hash(title, body)
    source, author = clean_inline(raw.source), clean_inline(raw.author)
    version = content_hash(
        "\x1f".join([text_hash, source or "", author or "", url or "", str(published or "")]), ""
    )
    return Article(
        id=article_id(_identity(raw, url, text_hash)),
        title=title,
        body=body,
        source=source,
        url=url,
        author=author,
        published_date=published,
        content_hash=text_hash,
        version=version,
        origin=raw.origin,
        origin_key=raw.origin_key,
        notes=notes,
    )


def _outlet(article: Article) -> Outlet:
    return Outlet(url=article.url or article.origin or article.id, source=article.source,
                  title=article.title, published_date=article.published_date)  # fmt: skip


def read_input(item: Input, settings: Settings, options: LoadOptions) -> Iterator[LoadResult]:
    """Everything one input yields (a URL fetched with ``options.fetch``); a whole-input
    problem becomes one failure. A local ingest and a Ray ingest's tasks both read this way."""
    try:
        if item.problem:
            raise InputError(item.problem)
        if is_url(item.name) and options.fetch is not None:
            doc = options.fetch(item.name)
        else:
            doc = read_file(item.name, int(settings.max_file_mb * MB))
        yield from load_document(doc, options)
    except InputError as error:
        yield LoadFailure(item.name, str(error))


def load_document(doc: Document, options: LoadOptions) -> Iterator[LoadResult]:
    """What one document (a file read, a page or feed fetched) yields."""
    produced = False
    for result in loader_for(doc)(doc, options):
        produced = True
        yield result
    if not produced:
        yield LoadFailure(doc.location, "no articles found")


class IngestRun:
    """One ingest into one library. Use ``ingest()`` unless you need the pieces."""

    def __init__(
        self,
        library: Library,
        settings: Settings,
        *,
        field_map: dict[str, str] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        source: str | None = None,
    ):
        self.library = library
        self.settings = settings
        self.summary = IngestSummary()
        self.source = source  # overrides what the inputs say (a subscription's own name)
        self.options = LoadOptions(
            field_map=dict(field_map or {}), fetch=self._fetch, stored=self._stored
        )
        self.on_progress = on_progress
        self.on_failure = on_failure
        self.chunker = Chunker(
            load_tokenizer(settings.embed_model),
            settings.chunk_tokens,
            settings.chunk_overlap_tokens,
        )
        self._embedder = None
        self._stories: dedupe.StoryIndex | None = None  # read on the first new article
        self._outlets: list[tuple[str, Outlet]] = []  # copies found, stored with the batch
        self._fetched: dict[str, list[LoadResult]] = {}  # URLs read before the lock (prefetch)
        self._queue: list[PendingArticle] = []
        self._queued_chunks = 0
        self._hashes_this_run: dict[str, str] = {}
        self.seen_ids: set[str] = set()
        self.failed_origins: set[str] = set()
        self._started = time.perf_counter()

    # ---------------------------------------------------------------- inputs
    def _fetch(self, url: str) -> Document:
        return fetch(
            url,
            timeout_s=self.settings.fetch_timeout_s,
            max_bytes=int(self.settings.max_fetch_mb * MB),
            allow_private=self.settings.allow_private_urls,
        )

    def _stored(self, link: str, updated: datetime | None) -> bool:
        article = self.library.resolve(link)
        if article is None or not article.ingested_at:
            return False
        stored_at = datetime.fromisoformat(article.ingested_at)
        return updated is None or updated <= stored_at.replace(tzinfo=stored_at.tzinfo or UTC)

    def fail(self, failure: LoadFailure, origin: str | None = None) -> None:
        self.summary.failed += 1
        self.summary.errors.append(str(failure))
        if origin:
            self.failed_origins.add(origin)
        if self.on_failure:
            self.on_failure(str(failure))

    # ---------------------------------------------------------------- articles
    def add(self, raw: RawArticle) -> None:
        if self.source:
            raw.source = self.source
        try:
            article = prepare(raw, self.settings)
        except InputError as error:
            self.fail(LoadFailure(raw.location, str(error)), raw.origin)
            return
        self.admit(article, raw.location)

    def admit(self, article: Article, location: str, prepared: Prepared | None = None) -> None:
        """Decide what a prepared article is (unchanged, a copy, new or an update) and queue
        it for embedding and commit. ``prepared``: its chunks (and their vectors) when they
        were made elsewhere (a Ray ingest); then the same chunker made them."""
        self.summary.notes.extend(f"{location}: {note}" for note in article.notes)
        if article.id in self.seen_ids:  # e.g. one URL twice in an export: first one wins
            self.summary.unchanged += 1
            self.summary.notes.append(f"{location}: same article as an earlier input; skipped")
            return
        self.seen_ids.add(article.id)
        existing = self.library.get(article.id)
        if existing and existing.version == article.version:
            self.summary.unchanged += 1
            return
        if existing is None and article.url and self.library.story_carried_at(article.url):
            self.summary.unchanged += 1  # a copy seen before: already an outlet of its story
            return
        duplicate_of = self._hashes_this_run.get(article.content_hash)
        if existing is None and duplicate_of is None:
            twin = self.library.find_by_hash(article.content_hash)
            duplicate_of = twin.id if twin else None
        if duplicate_of and duplicate_of != article.id:  # same story under another URL or file
            self.seen_ids.add(duplicate_of)
            self.summary.unchanged += 1
            if article.url:
                self._outlets.append((duplicate_of, _outlet(article)))
            return
        minhash = dedupe.signature(article.body) if self.settings.merge_copies else None
        if minhash is not None and existing is None:
            copy_of = self.stories.copy_of(minhash, article.published_date, article.id)
            if copy_of is not None:  # a syndicated copy: the stored story gets this outlet
                self.seen_ids.add(copy_of)
                self.summary.merged += 1
                self.summary.notes.append(f"{location}: a copy of a stored story; kept as "
                                          "another outlet of it")  # fmt: skip
                self._outlets.append((copy_of, _outlet(article)))
                return
        self._hashes_this_run[article.content_hash] = article.id
        if minhash is not None:
            self.stories.add(article.id, minhash, article.published_date)
        chunks = prepared.chunks if prepared else self.chunker.split(article)
        article.chunk_count = len(chunks)
        self._queue.append(
            PendingArticle(article, chunks, prepared.vectors if prepared else [],
                           replaces=existing,
                           signature=dedupe.to_bytes(minhash) if minhash else None)
        )  # fmt: skip
        self._queued_chunks += len(chunks)
        if self._queued_chunks >= self.settings.embed_batch_size * FLUSH_BATCHES:
            self.flush()

    @property
    def stories(self) -> dedupe.StoryIndex:
        if self._stories is None:
            self._stories = dedupe.StoryIndex(self.library.story_signatures())
        return self._stories

    def flush(self) -> None:
        if not self._queue:
            self.library.add_outlets(self._outlets)
            self._outlets = []
            return
        # Articles whose vectors came with them (a Ray ingest) aren't embedded again.
        unembedded = [p for p in self._queue if len(p.vectors) != len(p.chunks)]
        texts = [chunk.embed_text for pending in unembedded for chunk in pending.chunks]
        if texts and self._embedder is None:
            self._embedder = embedding_model(self.settings)
        vectors = self._embedder.encode(texts) if texts else []
        position = 0
        for pending in unembedded:
            pending.vectors = vectors[position : position + len(pending.chunks)]
            position += len(pending.chunks)
        embedded = sum(len(p.chunks) for p in self._queue)
        self.library.commit(self._queue)
        self.library.add_outlets(self._outlets)  # after the stories they name are committed
        self._outlets = []
        for pending in self._queue:
            if pending.replaces:
                self.summary.updated += 1
            else:
                self.summary.added += 1
            self.summary.titles.append(pending.article.title)
        self.summary.chunks_embedded += embedded
        self._queue, self._queued_chunks = [], 0

    def report(self, current: str) -> None:
        if self.on_progress:
            s = self.summary
            self.on_progress(
                Progress(
                    articles=s.added + s.updated + s.unchanged + s.failed + len(self._queue),
                    chunks=s.chunks_embedded,
                    elapsed=time.perf_counter() - self._started,
                    current=current,
                )
            )

    # ---------------------------------------------------------------- the run
    def take(self, result: LoadResult, origin: str | None) -> None:
        if isinstance(result, LoadFailure):
            self.fail(result, origin)
        elif isinstance(result, AlreadyStored):
            self.summary.unchanged += 1
        else:
            self.add(result)

    def prefetch(self, urls: Sequence[str]) -> None:
        """Fetch ``urls`` (and a feed's linked pages) now, before the write lock is taken:
        a slow or hanging server must not keep every other writer waiting. ``run`` then
        takes what was fetched instead of fetching again."""
        for url in urls:
            self._fetched[url] = list(read_input(Input(url), self.settings, self.options))

    def run(self, items: Sequence[Input] | Iterator[Input]) -> IngestSummary:
        for item in items:
            fetched = self._fetched.pop(item.name, None)
            results = (
                fetched if fetched is not None else read_input(item, self.settings, self.options)
            )
            for result in results:
                self.take(result, None if is_url(item.name) else os.path.abspath(item.name))
                self.report(item.name)
        self.flush()
        self.report("")
        return self.summary

    def run_document(self, doc: Document) -> IngestSummary:
        try:
            for result in load_document(doc, self.options):
                self.take(result, None)
                self.report(doc.location)
        except InputError as error:
            self.fail(LoadFailure(doc.location, str(error)))
        self.flush()
        self.report("")
        return self.summary

    def sync(self, folders: Sequence[Path]) -> None:
        """Remove articles that came from files under ``folders`` and were not seen this run.

        Articles of files that failed to load are kept: a temporarily unreadable file must not
        wipe its articles.
        """
        gone = []
        for folder in folders:
            prefix = os.path.join(os.path.abspath(folder), "")
            for article_id_, origin, _key in self.library.articles_from(prefix):
                if article_id_ not in self.seen_ids and origin not in self.failed_origins:
                    gone.append(article_id_)
        self.summary.removed += len(self.library.delete(gone))


@dataclass(frozen=True)
class IngestOptions:
    """How to ingest, the same on this machine (``ingest``) and on a Ray cluster
    (``cluster_ingest``): built once from their keywords (or given whole) and passed down."""

    sync: bool = False  # also remove the articles of files gone from the folders given
    include: Sequence[str] = ()  # file name patterns to read (all supported if none)
    exclude: Sequence[str] = ()  # ... and to skip
    field_map: dict[str, str] | None = None  # JSONL field names -> ours ("headline": "title")
    on_progress: Callable[[Progress], None] | None = None
    on_failure: Callable[[str], None] | None = None  # one line per input that failed

    @classmethod
    def build(cls, options: IngestOptions | None = None, **keywords: Any) -> IngestOptions:
        """``options`` with ``keywords`` over it; an unknown keyword is a ``TypeError`` naming
        it, as a misspelt keyword argument is."""
        known = {f.name for f in fields(cls)}
        if unknown := sorted(set(keywords) - known):
            raise TypeError(f"unknown ingest option {unknown[0]!r} (options: {sorted(known)})")
        return replace(options or cls(), **keywords)

    def run_callbacks(self) -> dict[str, Any]:
        """What an ``IngestRun`` is given of these."""
        return {"field_map": self.field_map, "on_progress": self.on_progress,
                "on_failure": self.on_failure}  # fmt: skip


def ingest(
    inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    settings: Settings | None = None,
    options: IngestOptions | None = None,
    *,
    library: Library | None = None,
    **keywords: Any,
) -> IngestSummary:
    """Ingest files, folders and URLs into the library; returns the summary. Options: those
    of ``IngestOptions``, as keywords or whole.

    >>> from ingest import ingest
    >>> summary = ingest(["data/sample"])            # doctest: +SKIP
    >>> summary.added, summary.unchanged, summary.failed  # doctest: +SKIP
    """
    options = IngestOptions.build(options, **keywords)
    if isinstance(inputs, str | os.PathLike):
        inputs = [inputs]
    names = [os.fspath(item) for item in inputs]

    def work(run: IngestRun) -> None:
        run.run(expand(names, options.include, options.exclude))
        if options.sync:
            run.sync([Path(name) for name in names if not is_url(name) and Path(name).is_dir()])

    def before_lock(run: IngestRun) -> None:
        run.prefetch([name for name in names if is_url(name)])

    return _ingest_run(names, work, settings, library, options.run_callbacks(), before_lock)


def ingest_document(
    doc: Document,
    settings: Settings | None = None,
    *,
    source: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    library: Library | None = None,
) -> IngestSummary:
    """Ingest one document already fetched (a feed checked by the poller); ``source``
    overrides the document's own (a subscription's name)."""
    options = {"on_progress": on_progress, "source": source}
    return _ingest_run([doc.location], lambda run: run.run_document(doc), settings, library,
                       options)  # fmt: skip


def _ingest_run(
    names: list[str],
    work: Callable[[IngestRun], None],
    settings: Settings | None,
    library: Library | None,
    options: dict,
    before_lock: Callable[[IngestRun], None] | None = None,
) -> IngestSummary:
    """One ingest under the library's write lock, logged with its inputs; ``before_lock``
    reads what needs no lock first (URLs)."""
    settings = settings or load_settings()
    started_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    own_library = library is None
    library = library or Library(settings)
    try:
        run = IngestRun(library, settings, **options)
        if before_lock is not None:
            before_lock(run)
        with library.writing():
            library.check_embedding(settings.embed_model)
            work(run)
            run.summary.seconds = round(time.perf_counter() - run._started, 3)
            # "unchanged" must not read as "all is well" when the vectors are gone.
            run.summary.notes.extend(f"the library is damaged: {p}" for p in library.damage())
            library.log_run(started_at, names, run.summary.to_dict())
            return run.summary
    finally:
        if own_library:
            library.close()
