"""newsrag core: settings, models, the library store, retrieval and answering.

import rag
engine = rag.open_engine()            # or open_engine("path/to/library", top_k=8)
answer = engine.ask("Who heads the U.N. nuclear watchdog?")
"""

from rag import offline as _offline  # noqa: F401  (must run before HF/chroma imports)
from rag.settings import Settings, load_settings


def open_engine(data_dir=None, **overrides):
    from rag.engine import open_engine as _open

    return _open(data_dir, **overrides)


def __getattr__(name: str):  # lazy: `import rag` stays cheap for the CLI and ingest
    if name in {"Answer", "Citation", "Passage", "Article"}:
        from rag import types

        return getattr(types, name)
    if name in {"NewsQueryEngine", "QueryError"}:
        from rag import engine

        return getattr(engine, name)
    raise AttributeError(name)


__all__ = ["Settings", "load_settings", "open_engine"]
