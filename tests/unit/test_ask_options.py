"""One options object for asking (#27): built once from keywords, frozen, passed down whole."""

from __future__ import annotations

import dataclasses

import pytest

from rag import AskOptions


def test_keywords_build_one_frozen_object_over_given_options():
    base = AskOptions(as_of="2024-06-01", answerer="llm")
    built = AskOptions.build(base, sources=["Millbrook Courier"], all_dates=True, exclude=["a1"])
    assert built == AskOptions(
        as_of="2024-06-01", answerer="llm", sources=("Millbrook Courier",), all_dates=True,
        exclude=("a1",),
    )  # fmt: skip
    assert base.all_dates is False  # the given object is unchanged
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.as_of = "2025-01-01"  # type: ignore[misc]
    assert hash(built)  # lists (sources, exclude) are held as tuples


def test_an_unknown_keyword_is_named_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown option 'since_date' \(options: all_dates, "):
        AskOptions.build(since_date="2024-01-01")
