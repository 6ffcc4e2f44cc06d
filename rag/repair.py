"""Rebuild what derives from the docstore: the vectors in Chroma and the keyword index.

``library.sqlite`` holds every article's text and chunk boundaries (the truth); the vectors and
the keyword index can be made again from it. Repair runs under the write lock, replays the
journal first, then restores exactly the difference: vectors for committed chunks that have
none (embedded again from the stored chunk text, so they equal the ingest's), and no vectors
for chunks nobody committed. A library from before schema 2 also gets the docstore's copy of
each vector (``Library.copy_vectors``). Every batch is an idempotent upsert, so an
interrupted repair (Ctrl-C, a crash) loses nothing and the next one carries on from what is
still missing.
A docstore that is itself damaged can't be repaired from anything: ``DamagedLibrary`` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rag.models import embedding_model
from rag.settings import Settings
from rag.store import DamagedLibrary, Library

# Chunks embedded and upserted together: each batch is durable once written (about 10 s of
# work here at ~25 chunks/s), so an interrupted repair redoes at most one.
REPAIR_BATCH = 256


@dataclass
class RepairReport:
    journal_replayed: int = 0
    vectors_restored: int = 0
    vectors_dropped: int = 0
    vector_store_set_aside: str | None = None  # where an unreadable Chroma folder was moved
    keyword_chunks: int = 0
    vectors_copied: int = 0  # into the docstore, for a library from before schema 2

    def line(self) -> str:
        parts = [
            f"restored {self.vectors_restored} vectors",
            f"dropped {self.vectors_dropped} stray vectors",
            f"keyword index rebuilt ({self.keyword_chunks} passages)",
        ]
        if self.vectors_copied:
            parts.append(f"copied {self.vectors_copied} vectors into the docstore")
        if self.journal_replayed:
            parts.insert(0, f"replayed {self.journal_replayed} journal entries")
        if self.vector_store_set_aside:
            parts.insert(0, f"moved the unreadable vector store to {self.vector_store_set_aside}")
        return "; ".join(parts)


def repair_library(
    library: Library,
    settings: Settings,
    on_progress: Callable[[int, int], None] | None = None,
) -> RepairReport:
    """Make ``library``'s vectors and keyword index agree with its docstore again.
    ``on_progress(done, total)`` after each batch of restored vectors."""
    report = RepairReport()
    with library.writing():
        # The vector store first: replaying the journal writes to it, so with an unreadable
        # one the replay failed and repair could never get past it (#26: one failed ingest
        # over a damaged chroma/ left a journal row, and repair then failed for good).
        try:
            library.collection.count()
        except DamagedLibrary:
            aside = library.set_aside_vector_store()
            if aside is None:  # a Chroma server: not ours to move
                raise
            report.vector_store_set_aside = str(aside)
        report.journal_replayed = library.recover()
        missing, strays = library.vector_differences()
        library.drop_vectors(strays)
        report.vectors_dropped = len(strays)
        if missing:
            library.check_embedding(settings.embed_model)
            model = embedding_model(settings)
            for offset in range(0, len(missing), REPAIR_BATCH):
                library.restore_vectors(missing[offset : offset + REPAIR_BATCH], model.encode)
                report.vectors_restored = min(offset + REPAIR_BATCH, len(missing))
                if on_progress:
                    on_progress(report.vectors_restored, len(missing))
        report.vectors_copied = library.copy_vectors()
        report.keyword_chunks = len(library.rebuild_keyword_index())
    return report
