"""The chat window: ``newsrag ui`` (a Gradio app over the public APIs of ``rag`` and ``ingest``).

from ui import build_app, launch
app, url = launch(rag.load_settings(), block=False)
"""

from rag import offline as _offline  # noqa: F401  (before gradio is imported)
from ui.server import LaunchError, build, check_bind, launch, prepare_library, read_auth


def build_app(settings, engine):
    from ui.app import build_app as _build

    return _build(settings, engine)


__all__ = [
    "LaunchError",
    "build",
    "build_app",
    "check_bind",
    "launch",
    "prepare_library",
    "read_auth",
]
