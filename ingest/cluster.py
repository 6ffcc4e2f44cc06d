"""Ingest on a Ray cluster: ``newsrag ingest FILES... --ray [ADDRESS]``.

What runs where (one Ray Data pipeline, streaming, in input order):

- **Ray tasks**, one input file each: read, clean, prepare (id, version, dates) and chunk. An
  article the library already holds in this version is dropped there, so a rerun after a
  failure embeds only what is left.
- **An actor pool** of ``ray_actors`` actors that each load the embedding model once (a GPU
  each when the cluster has GPUs) embeds the chunks, ``ray_batch_articles`` articles a call.
- **This process** (the driver) makes the decisions that need the whole library (unchanged,
  a duplicate, a syndicated copy), in input order, with the same code as a local ingest
  (``IngestRun.admit``), and commits: journal -> upsert into the library's Chroma (the
  ``chroma run`` server when ``chroma_url`` is set) -> SQLite commit -> old vectors out. So
  visibility and crash safety stay the library's whatever the cluster does: an ingest that
  dies leaves the library consistent and a rerun finishes the job.

Inputs are files and folders the workers can read at the same paths (one machine, or shared
storage); URLs and feeds are fetched by a local ingest. Workers need newsrag installed (the
same version) in the Python that runs them.
"""

from __future__ import annotations

import logging
import os
import pickle
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ingest.chunk import Chunker
from ingest.loaders import InputError, LoadFailure, LoadOptions, RawArticle
from ingest.pipeline import (
    MB,
    IngestOptions,
    IngestRun,
    IngestSummary,
    Prepared,
    _ingest_run,
    prepare,
    read_input,
)
from ingest.sources import Input, expand, is_url
from rag.errors import NewsragError
from rag.models import LocalEmbedding, load_tokenizer
from rag.settings import Settings

LOCAL = "local"  # --ray without an address: a Ray runtime started for this ingest
# Reading and chunking are ~5% of an article's cost (embedding is the rest), so the loading
# tasks claim no CPU of their own: they run beside the actors instead of waiting for a free
# CPU, which never comes when the actors hold them all (2 actors on 2 CPUs: a deadlock).
# At most this many run at once per actor, so they don't race far ahead of the embedding.
LOAD_TASKS_PER_ACTOR = 2
BLOCK_BYTES = 1 * MB  # ~100 chunked articles: a block of work the actor pool splits up


class ClusterError(NewsragError, RuntimeError):
    """A Ray ingest that can't start: a bad address, URLs given, Ray missing."""


@dataclass
class Loaded:
    """One thing a worker made of an input, sent to the driver (pickled)."""

    location: str
    origin: str | None = None
    failure: str | None = None  # why the input, or this article, could not be used
    unchanged_id: str | None = None  # the library holds this article in this version
    article: Any = None  # rag.types.Article, prepared
    chunks: list[Any] = field(default_factory=list)
    vectors: list[list[float]] = field(default_factory=list)


# ------------------------------------------------------------------------- on the workers
@lru_cache(maxsize=2)
def _chunker(model: str, tokens: int, overlap: int) -> Chunker:
    """One per worker process (Ray reuses them across tasks)."""
    return Chunker(load_tokenizer(model), tokens, overlap)


def load_and_chunk(row: dict[str, Any], settings: Settings, stored: dict[str, str],
                   field_map: dict[str, str]) -> Iterator[dict[str, bytes]]:  # fmt: skip
    """A Ray task: one input file -> its articles, prepared and chunked (or failures)."""
    path = row["path"]
    origin = os.path.abspath(path)
    chunker = _chunker(settings.embed_model, settings.chunk_tokens, settings.chunk_overlap_tokens)
    for result in read_input(Input(path), settings, LoadOptions(field_map=field_map)):
        if isinstance(result, LoadFailure):
            loaded = Loaded(result.location, origin, failure=result.reason)
        elif isinstance(result, RawArticle):
            loaded = _prepared(result, settings, stored, chunker, origin)
        else:  # AlreadyStored: only feeds say so, and feeds are ingested locally
            continue
        yield {"payload": pickle.dumps(loaded)}


def _prepared(raw: RawArticle, settings: Settings, stored: dict[str, str], chunker: Chunker,
              origin: str) -> Loaded:  # fmt: skip
    try:
        article = prepare(raw, settings)
    except InputError as error:
        return Loaded(raw.location, raw.origin or origin, failure=str(error))
    if stored.get(article.id) == article.version:
        return Loaded(raw.location, origin, unchanged_id=article.id)
    return Loaded(raw.location, origin, article=article, chunks=chunker.split(article))


class Embedder:
    """A Ray actor: the embedding model, loaded once, embedding batches of articles."""

    def __init__(self, model: str, threads: int, batch_size: int, device: str):
        self.model = LocalEmbedding(model, threads=threads, batch_size=batch_size, device=device)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[bytes]]:
        loaded = [pickle.loads(payload) for payload in batch["payload"]]
        texts = [chunk.embed_text for item in loaded for chunk in item.chunks]
        vectors = self.model.encode(texts) if texts else []
        position = 0
        for item in loaded:
            item.vectors = vectors[position : position + len(item.chunks)]
            position += len(item.chunks)
        return {"payload": [pickle.dumps(item) for item in loaded]}


# ------------------------------------------------------------------------- on the driver
def connect(address: str) -> None:
    """Start a local Ray runtime (``local``) or join a cluster (``auto``, ``ray://host:10001``,
    ``host:port``)."""
    try:
        import ray
    except ImportError:
        raise ClusterError(
            "--ray needs Ray: pip install 'newsrag[ray]' (ray[data]==2.60.*)"
        ) from None
    if os.path.exists(address) and address != LOCAL:
        raise ClusterError(
            f"--ray {address!r}: that is a file or folder, not a cluster address; put the "
            "inputs first (`newsrag ingest DIR --ray`) or write --ray=ADDRESS"
        )
    if ray.is_initialized():
        return
    # Ray's own log lines would bury the ingest's output (its logs stay in /tmp/ray).
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    # Nothing leaves the machine: no usage report to Ray's servers from a runtime we start.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    warnings.filterwarnings("ignore", category=UserWarning, module=r"ray\.data\..*")
    try:
        ray.init(
            # "local": a runtime of our own, even where `ray start` left its address behind
            # (without it, ray.init joins that cluster, or waits for it if it is gone).
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            configure_logging=False,
        )
    except (ConnectionError, ValueError, RuntimeError) as error:
        raise ClusterError(
            f"--ray {address}: cannot reach the Ray cluster ({error}); a cluster with token "
            "authentication also needs RAY_AUTH_MODE=token and its token (RAY_AUTH_TOKEN or "
            "~/.ray/auth_token)"
        ) from None


def cluster_ingest(
    inputs: Sequence[str],
    settings: Settings,
    address: str = LOCAL,
    options: IngestOptions | None = None,
    **keywords: Any,
) -> IngestSummary:
    """Ingest files and folders with the work spread over a Ray cluster (see the module);
    options as ``ingest``'s."""
    options = IngestOptions.build(options, **keywords)
    names = [os.fspath(item) for item in inputs]
    if urls := [name for name in names if is_url(name)]:
        raise ClusterError(f"{urls[0]}: a Ray ingest reads files and folders; ingest URLs and "
                           "feeds without --ray")  # fmt: skip
    connect(address)

    def work(run: IngestRun) -> None:
        import ray
        import ray.data

        logging.getLogger("ray.data").setLevel(logging.ERROR)
        items = list(expand(names, options.include, options.exclude))
        for item in items:
            if item.problem:
                run.fail(LoadFailure(item.name, item.problem))
        paths = [item.name for item in items if not item.problem]
        if paths:
            context = ray.data.DataContext.get_current()
            context.execution_options.preserve_order = True  # decisions in input order
            context.enable_progress_bars = False
            # Small blocks: one big JSONL still feeds every actor, not one block to one actor.
            context.target_max_block_size = BLOCK_BYTES
            gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
            stored = run.library.article_versions()
            pipeline = ray.data.from_items(
                [{"path": path} for path in paths], override_num_blocks=len(paths)
            ).flat_map(
                load_and_chunk, fn_kwargs={"settings": settings, "stored": stored,
                                           "field_map": dict(options.field_map or {})},
                num_cpus=0,
                compute=ray.data.TaskPoolStrategy(size=LOAD_TASKS_PER_ACTOR * settings.ray_actors),
            ).map_batches(
                Embedder,
                fn_constructor_kwargs={
                    "model": settings.embed_model, "threads": settings.ray_actor_cpus,
                    "batch_size": settings.embed_batch_size, "device": "cuda" if gpus else "cpu",
                },
                batch_size=settings.ray_batch_articles,
                compute=ray.data.ActorPoolStrategy(size=settings.ray_actors),
                num_cpus=settings.ray_actor_cpus,
                num_gpus=gpus,
            )  # fmt: skip
            for row in pipeline.iter_rows():
                loaded = pickle.loads(row["payload"])
                _take(run, loaded)
                run.report(loaded.location)
        run.flush()
        if options.sync:
            run.sync([Path(name) for name in names if Path(name).is_dir()])

    return _ingest_run(names, work, settings, None, options.run_callbacks())


def _take(run: IngestRun, loaded: Loaded) -> None:
    if loaded.failure is not None:
        run.fail(LoadFailure(loaded.location, loaded.failure), loaded.origin)
    elif loaded.unchanged_id is not None:
        run.seen_ids.add(loaded.unchanged_id)
        run.summary.unchanged += 1
    else:
        run.admit(loaded.article, loaded.location, Prepared(loaded.chunks, loaded.vectors))
