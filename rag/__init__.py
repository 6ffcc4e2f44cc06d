"""newsrag core: settings, models, the library store, retrieval and answering.

import rag
engine = rag.open_engine()            # or open_engine("path/to/library", top_k=8)
answer = engine.ask("Who heads the U.N. nuclear watchdog?")
library = rag.open_library()          # list, show, delete, stats (what the CLI and UI use)
"""

from rag import offline as _offline  # noqa: F401  (must run before HF/chroma imports)
from rag.settings import Settings, load_settings


def open_engine(data_dir=None, *, settings=None, **overrides):
    from rag.engine import open_engine as _open

    return _open(data_dir, settings=settings, **overrides)


def open_library(settings=None, *, create=False):
    """The library of ``settings`` (default: ``load_settings()``); ``create`` makes a new one."""
    from rag.store import Library

    return Library(settings or load_settings(), create=create)


def delete_articles(library, article_ids):
    """Remove articles and their vectors, and bring BM25 up to date. Returns the removed ids."""
    from rag import keyword

    with library.writing():
        removed = library.delete(article_ids)
        keyword.refresh(library)
    return removed


def available_answerers(settings=None):
    """["extractive"] plus "llm" when an LLM is configured (checked without loading it)."""
    from rag.answer import available_answerers as _available

    return _available(settings or load_settings())


def __getattr__(name: str):  # lazy: `import rag` stays cheap for the CLI and ingest
    if name in {"Answer", "Citation", "Passage", "Article"}:
        from rag import types

        return getattr(types, name)
    if name in {"NewsQueryEngine", "QueryError"}:
        from rag import engine

        return getattr(engine, name)
    if name in {"Library", "LibraryError"}:
        from rag import store

        return getattr(store, name)
    raise AttributeError(name)


__all__ = [
    "Settings",
    "available_answerers",
    "delete_articles",
    "load_settings",
    "open_engine",
    "open_library",
]
