"""Read a slow stream without ever blocking for long: what makes Stop prompt.

Gradio runs a streaming handler's ``next()`` in a worker thread and can close the handler
only between two ``next()`` calls. While our answer waited for a model (the LLM reads its
prompt for seconds before its first token), Stop's close was retried for as long, and a
question typed right after Stop was dropped by the page. ``paced`` reads the stream in a
thread of its own and hands on a ``None`` heartbeat whenever nothing came for a while, so the
handler is back at a ``yield`` within ``every_s`` and a close takes effect at once; the
stream itself is closed (stopping the model at its next token) as soon as its reader goes.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass
class _Failed:
    error: BaseException


_END = object()


def paced(stream: Iterator[T], every_s: float) -> Iterator[T | None]:
    """``stream``'s items as they come, with ``None`` after each ``every_s`` without one.

    Exceptions of ``stream`` are raised here. Closing this iterator (or dropping it) closes
    ``stream`` in its thread after its current item."""
    handed: queue.Queue[object] = queue.Queue()
    reader_gone = threading.Event()

    def produce() -> None:
        try:
            for item in stream:
                handed.put(item)
                if reader_gone.is_set():
                    break
        except BaseException as error:  # re-raised in the reader's thread
            handed.put(_Failed(error))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            handed.put(_END)

    # The stream may read context variables (LlamaIndex's callbacks do): give it the caller's.
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(produce,), daemon=True, name="paced").start()
    try:
        while True:
            try:
                item = handed.get(timeout=every_s)
            except queue.Empty:
                yield None
                continue
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        reader_gone.set()
