"""The recency prior: how much an article's age discounts its evidence, and when it is off."""

from datetime import date, timedelta

import pytest

from rag.dates import RecencyPrior, recency_prior, resolve_time_expression

NOW = date(2023, 3, 17)


@pytest.mark.parametrize(
    ("age_days", "expected"),
    [(0, 1.0), (30, 0.85), (60, 0.775), (3650, 0.7), (-5, 1.0)],  # -5: after "now"
)
def test_weight_halves_its_distance_to_the_floor_every_half_life(age_days, expected):
    prior = RecencyPrior(NOW, half_life_days=30, floor=0.7)
    assert prior.weight(NOW - timedelta(days=age_days)) == pytest.approx(expected, abs=1e-3)


def test_undated_articles_are_not_stale():
    assert RecencyPrior(NOW).weight(None) == 1.0


def test_newer_always_weighs_more():
    prior = RecencyPrior(NOW)
    weights = [prior.weight(NOW - timedelta(days=age)) for age in range(0, 800, 7)]
    assert weights == sorted(weights, reverse=True)
    assert weights[-1] > 0.7


def prior_for(question: str, now: date | None = NOW, floor: float = 0.7):
    return recency_prior(question, resolve_time_expression(question, NOW), now, 30, floor)


def test_a_question_without_time_words_is_about_the_latest_news():
    prior = prior_for("Which car company is recalling SUVs over airbags?")
    assert prior == RecencyPrior(NOW, 30, 0.7)


def test_now_is_the_libraries_newest_day_when_that_is_earlier():
    # A library that ends in 2021 is read as of its last article, not as stale.
    prior = prior_for("Who heads the U.N. nuclear watchdog?", now=date(2021, 6, 1))
    assert prior is not None and prior.now == date(2021, 6, 1)


def test_a_short_window_moves_now_to_its_end():
    prior = prior_for("Who won last week?")
    assert prior is not None and prior.now == date(2023, 3, 12)


@pytest.mark.parametrize(
    "question",
    [
        "What did the report say in 2021?",  # a year-long window: about then, not now
        "Who won the 2016 election?",  # a past year named: no preference for new articles
    ],
)
def test_questions_about_the_past_turn_the_prior_off(question):
    assert prior_for(question) is None


def test_the_current_year_named_keeps_the_prior():
    assert prior_for("Which animal does the 2023 Lunar New Year celebrate?") is not None


def test_floor_one_or_an_undated_library_turns_it_off():
    assert prior_for("Which car company is recalling SUVs?", floor=1.0) is None
    assert prior_for("Which car company is recalling SUVs?", now=None) is None
