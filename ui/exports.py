"""Conversation exports: the Markdown file behind the chat's download button.

Every answer writes the whole conversation so far. Gradio copies a returned file into its own
cache as the response is sent, so ours need only outlive that one response. They used to be
one ``mkdtemp`` per answer, never removed: a chat server left a folder in /tmp for every answer
it gave. Now they live in one folder per app, files older than ``KEPT_SECONDS`` are pruned on
each write, and the folder goes when the process ends.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from pathlib import Path

# Far longer than a response takes to send, short enough that a busy server keeps few.
KEPT_SECONDS = 3600
FILE_NAME = "newsrag-conversation.md"  # the name the browser saves it under


class Exports:
    def __init__(self) -> None:
        # Removed at garbage collection or interpreter exit (TemporaryDirectory's finalizer).
        self._folder = tempfile.TemporaryDirectory(prefix="newsrag-export-")
        self.folder = Path(self._folder.name)

    def write(self, markdown: str) -> Path:
        """The file for ``markdown``. Each export has its own subfolder, named by its content,
        so the saved file keeps one plain name and two sessions never share a file."""
        self.prune()
        digest = hashlib.sha256(markdown.encode("utf-8")).hexdigest()[:24]
        path = self.folder / digest / FILE_NAME
        path.parent.mkdir(exist_ok=True)
        path.write_text(markdown, encoding="utf-8")
        return path

    def prune(self) -> None:
        cutoff = time.time() - KEPT_SECONDS
        for entry in self.folder.iterdir():
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
            except FileNotFoundError:  # pruned meanwhile by another session's write
                pass

    def close(self) -> None:
        self._folder.cleanup()
