"""Article ingestion: loaders, cleaning, chunking and the incremental pipeline.

Public API: ``ingest(inputs, settings=None, ...) -> IngestSummary``; ``SUPPORTED_SUFFIXES``
(file types the loaders read); ``is_url``.
"""

from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.pipeline import IngestSummary, Progress, ingest
from ingest.sources import is_url
from rag import offline as _offline  # noqa: F401  (before any HF import)

__all__ = ["SUPPORTED_SUFFIXES", "IngestSummary", "Progress", "ingest", "is_url"]
