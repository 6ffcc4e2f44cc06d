"""The library store: a SQLite docstore beside a Chroma collection (``Library``), one concern
a module:

- ``library.py``: the ``Library`` facade: open, close, transactions, ``writing()``, and the
  crash-safe ``commit``/``delete`` protocol;
- ``schema.py``: tables, versions and upgrades, what every write records;
- ``articles.py``: articles and committed chunks; ``vectors.py``: the Chroma collection,
  float16 copies, damage and repair support; ``stories.py``: outlets and story signatures;
  ``keywords.py``: the keyword index's queue and documents; ``activity.py``: feedback,
  subscriptions, run logs;
- ``errors.py``: ``LibraryError`` and its kinds.

Everything that was ``rag.store.X`` before the split still is.
"""

from rag.store.articles import PendingArticle, chunk_ids
from rag.store.errors import (
    REPAIR_HINT,
    RESTORE_ADVICE,
    DamagedLibrary,
    LibraryError,
    ReadOnlyLibrary,
)
from rag.store.library import Library
from rag.store.schema import SCHEMA_VERSION
from rag.store.vectors import chunk_metadata, vector_blob

__all__ = [
    "REPAIR_HINT",
    "RESTORE_ADVICE",
    "SCHEMA_VERSION",
    "DamagedLibrary",
    "Library",
    "LibraryError",
    "PendingArticle",
    "ReadOnlyLibrary",
    "chunk_ids",
    "chunk_metadata",
    "vector_blob",
]
