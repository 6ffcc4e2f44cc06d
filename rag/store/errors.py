"""What goes wrong with a library, by name."""

from __future__ import annotations

from rag.errors import NewsragError


class LibraryError(NewsragError, RuntimeError):
    """The library cannot be opened or used as configured."""


class ReadOnlyLibrary(LibraryError):
    """A write (ingest, delete, repair) to a library this process can only read."""


class DamagedLibrary(LibraryError):
    """The library's files are damaged or disagree; the message names them and the fix."""


REPAIR_HINT = "run `newsrag repair` to rebuild them from the article texts"
RESTORE_ADVICE = (
    "restore the library folder from a backup, or move it away and ingest the articles again "
    "(the vectors and keyword index are rebuilt from library.sqlite, but nothing rebuilds it)"
)
