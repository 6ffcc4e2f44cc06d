"""How long-running eval work reports itself: lines of news, and ticks of a stage's count."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]  # a line: what is happening now
# What is being done, how much of it is done, of how much (for a progress bar).
OnProgress = Callable[[str, int, int], None]
