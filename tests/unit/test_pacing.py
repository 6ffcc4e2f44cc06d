"""ui.pacing.paced: a slow stream read with heartbeats, closed promptly when its reader goes."""

from __future__ import annotations

import threading

import pytest

from ui.pacing import paced


def test_items_come_through_in_order_with_heartbeats_while_the_stream_waits():
    release = threading.Event()

    def slow():
        yield "first"
        release.wait(10)  # a model reading its prompt
        yield "second"

    reader = paced(slow(), every_s=0.01)
    assert next(reader) == "first"
    assert next(reader) is None and next(reader) is None  # waiting: the reader is not blocked
    release.set()
    assert [item for item in reader if item is not None] == ["second"]


def test_an_error_of_the_stream_is_raised_to_the_reader():
    def broken():
        yield 1
        raise ValueError("bad passage")

    with pytest.raises(ValueError, match="bad passage"):
        list(paced(broken(), every_s=0.01))


def test_closing_the_reader_closes_the_stream_after_its_current_item():
    release, closed = threading.Event(), threading.Event()

    def endless():
        try:
            while True:
                release.wait(10)
                yield "token"
        finally:
            closed.set()  # LLMAnswerer.stream stops the model here

    reader = paced(endless(), every_s=0.01)
    assert next(reader) is None  # the stream is busy: the reader still gets a turn
    reader.close()  # Stop
    assert not closed.is_set()  # a running item can't be interrupted ...
    release.set()
    assert closed.wait(5)  # ... but the stream goes right after it
