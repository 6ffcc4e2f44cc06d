"""Retrieval's ranking steps as plain functions: fusion, the date boost, the recency discount,
the per-article cap. No model, no store."""

from __future__ import annotations

from datetime import date

import pytest

from rag.dates import DateWindow, RecencyPrior
from rag.retrieve import RRF_K, boost, cap_per_article, discount, fuse
from rag.types import Passage


def passage(chunk_id: str, article_id: str, published: date | None = None) -> Passage:
    return Passage(chunk_id=chunk_id, article_id=article_id, title=article_id, text="...",
                   start=0, end=3, published_date=published)  # fmt: skip


def test_fusion_adds_reciprocal_ranks_across_rankings():
    scores = fuse([["a", "b", "c"], ["c", "a"]])
    assert scores["a"] == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 2))
    assert scores["b"] == pytest.approx(1 / (RRF_K + 2))
    assert scores["c"] == pytest.approx(1 / (RRF_K + 3) + 1 / (RRF_K + 1))
    assert sorted(scores, key=lambda c: -scores[c]) == ["a", "c", "b"]  # both lists beat one


def test_fusion_of_nothing_is_empty_and_one_ranking_keeps_its_order():
    assert fuse([[], []]) == {}
    scores = fuse([["x", "y", "z"]])
    assert sorted(scores, key=lambda c: -scores[c]) == ["x", "y", "z"]


def test_boost_lifts_only_chunks_inside_the_window():
    window = DateWindow(date(2024, 3, 1), date(2024, 3, 7), "this week")
    chunks = {
        "in": passage("in", "A", date(2024, 3, 3)),
        "out": passage("out", "B", date(2024, 2, 1)),
        "undated": passage("undated", "C"),
    }
    scores = {"in": 0.01, "out": 0.02, "undated": 0.02, "gone": 0.5}
    lifted = boost(scores, chunks, window, lift=0.015)
    assert lifted == pytest.approx({"in": 0.025, "out": 0.02, "undated": 0.02})
    assert "gone" not in lifted  # not in the docstore: not a candidate at all
    assert scores["in"] == 0.01  # the input is not changed


def test_discount_weighs_by_age_and_spares_undated_articles():
    prior = RecencyPrior(now=date(2024, 3, 31), half_life_days=30, floor=0.5)
    chunks = {
        "today": passage("today", "A", date(2024, 3, 31)),
        "month": passage("month", "B", date(2024, 3, 1)),
        "undated": passage("undated", "C"),
    }
    weighed = discount({"today": 1.0, "month": 1.0, "undated": 1.0}, chunks, prior)
    assert weighed == pytest.approx({"today": 1.0, "month": 0.75, "undated": 1.0})


def test_cap_keeps_at_most_n_per_article_and_stops_at_top_k():
    chunks = {c: passage(c, c[0]) for c in ["a1", "a2", "a3", "b1", "c1", "c2"]}
    scores = {"a1": 0.9, "a2": 0.8, "a3": 0.7, "b1": 0.6, "c1": 0.5, "c2": 0.4}
    assert cap_per_article(chunks, scores, per_article=2, top_k=10) == [
        "a1",
        "a2",
        "b1",
        "c1",
        "c2",
    ]
    assert cap_per_article(chunks, scores, per_article=1, top_k=2) == ["a1", "b1"]


def test_cap_breaks_ties_in_the_order_chunks_came():
    chunks = {c: passage(c, c) for c in ["z", "y", "x"]}
    assert cap_per_article(chunks, dict.fromkeys(chunks, 0.5), 2, 3) == ["z", "y", "x"]
