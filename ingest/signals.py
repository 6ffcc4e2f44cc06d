"""Stop on Ctrl-C or `kill`: the one way `newsrag watch` and `newsrag ui` wait for it.

Both serve until told to stop, then shut down in bounded time on their own terms. The
handler only sets an event; the main thread polls it, since a bare ``Event.wait()`` may
miss a signal on some platforms (it arrives between the waits instead).
"""

from __future__ import annotations

import signal
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SIGNAL_POLL_S = 0.2  # how often the main thread looks at the stop event


def wait_for_stop_signal(poll_s: float = SIGNAL_POLL_S) -> None:
    """Block the main thread until SIGINT or SIGTERM arrives (each is handled, not fatal)."""
    stop = threading.Event()
    for number in STOP_SIGNALS:
        signal.signal(number, lambda *_: stop.set())
    while not stop.wait(poll_s):
        pass
