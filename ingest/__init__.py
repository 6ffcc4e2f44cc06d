"""Article ingestion: loaders, cleaning, chunking and the incremental pipeline.

Public API: ``ingest(inputs, settings=None, ...) -> IngestSummary``; ``SUPPORTED_SUFFIXES``
(file types the loaders read); ``is_url``; ``SAMPLE_LIBRARY`` (a checkout's sample articles).
"""

import importlib

from rag import offline as _offline  # noqa: F401  (before any HF import)

# Each public name and its module, imported on first use: the command line imports this
# package to list its commands, and the pipeline pulls in the models.
_PUBLIC = {
    "SUPPORTED_SUFFIXES": "ingest.loaders",
    "IngestSummary": "ingest.pipeline",
    "Progress": "ingest.pipeline",
    "ingest": "ingest.pipeline",
    "SAMPLE_LIBRARY": "ingest.sources",
    "is_url": "ingest.sources",
}


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'ingest' has no attribute {name!r}")


__all__ = list(_PUBLIC)
