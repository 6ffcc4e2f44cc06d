"""The chat window: ``newsrag ui`` (a Gradio app over the public APIs of ``rag`` and ``ingest``).

from ui import build_app, launch
app, url = launch(rag.load_settings(), block=False)
"""

from rag import lazy_exports
from rag import offline as _offline  # noqa: F401  (before gradio is imported)

# Each public name and its module, imported on first use (gradio takes seconds to import).
_PUBLIC = {
    "LaunchError": "ui.server",
    "build": "ui.server",
    "check_bind": "ui.server",
    "launch": "ui.server",
    "prepare_library": "ui.server",
    "read_auth": "ui.server",
    "build_app": "ui.app",
}


__getattr__ = lazy_exports("ui", _PUBLIC)


__all__ = list(_PUBLIC)
