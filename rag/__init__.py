"""newsrag core: settings, models, the library store, retrieval and answering."""

from rag import offline as _offline  # noqa: F401  (must run before HF/chroma imports)
from rag.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
