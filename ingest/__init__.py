"""Article ingestion: loaders, cleaning, chunking and the incremental pipeline.

Public API: ``ingest(inputs, settings=None, ...) -> IngestSummary``.
"""

from ingest.pipeline import IngestSummary, Progress, ingest
from rag import offline as _offline  # noqa: F401  (before any HF import)

__all__ = ["IngestSummary", "Progress", "ingest"]
