"""Article ingestion: loaders, cleaning, chunking and the incremental pipeline.

Public API: ``ingest(inputs, settings=None, ...) -> IngestSummary``; the same on a Ray cluster:
``cluster_ingest(inputs, settings, address="local", ...)``; feeds: ``subscribe``,
``check_now``, ``Watcher`` (the poller), ``wait_for_stop_signal`` (for it and the chat window);
``SUPPORTED_SUFFIXES``
(file types the loaders read); ``is_url``; ``SAMPLE_LIBRARY`` (a checkout's sample articles).
"""

from rag import lazy_exports
from rag import offline as _offline  # noqa: F401  (before any HF import)

# Each public name and its module, imported on first use: the command line imports this
# package to list its commands, and the pipeline pulls in the models.
_PUBLIC = {
    "SUPPORTED_SUFFIXES": "ingest.loaders",
    "IngestSummary": "ingest.pipeline",
    "IngestOptions": "ingest.pipeline",
    "Progress": "ingest.pipeline",
    "ingest": "ingest.pipeline",
    "ingest_document": "ingest.pipeline",
    "cluster_ingest": "ingest.cluster",
    "CheckOutcome": "ingest.watch",
    "Watcher": "ingest.watch",
    "check_now": "ingest.watch",
    "subscribe": "ingest.watch",
    "SAMPLE_LIBRARY": "ingest.sources",
    "is_url": "ingest.sources",
    "wait_for_stop_signal": "ingest.signals",
}


__getattr__ = lazy_exports("ingest", _PUBLIC)


__all__ = list(_PUBLIC)
