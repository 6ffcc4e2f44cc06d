"""The time-expression table of docs/dates.md, row by row (as_of = Friday 2023-03-17)."""

from datetime import date

import pytest

from rag.dates import (
    DateError,
    DateWindow,
    publication_window,
    resolve_time_expression,
    strip_expression,
)

AS_OF = date(2023, 3, 17)  # a Friday

TABLE = [
    ("What happened today?", "today", (date(2023, 3, 17), date(2023, 3, 17)), "filter"),
    ("Who resigned yesterday?", "yesterday", (date(2023, 3, 16), date(2023, 3, 16)), "filter"),
    (
        "What did Congress pass this week?",
        "this week",
        (date(2023, 3, 11), date(2023, 3, 17)),
        "filter",
    ),
    (
        "What happened this past week?",
        "this past week",
        (date(2023, 3, 11), date(2023, 3, 17)),
        "filter",
    ),
    ("Who won last week?", "last week", (date(2023, 3, 6), date(2023, 3, 12)), "filter"),
    (
        "What happened this weekend?",
        "this weekend",
        (date(2023, 3, 10), date(2023, 3, 12)),
        "filter",
    ),
    ("What did she say on Monday?", "on Monday", (date(2023, 3, 13), date(2023, 3, 13)), "filter"),
    ("What happened on Friday?", "on Friday", (date(2023, 3, 17), date(2023, 3, 17)), "filter"),
    (
        "What was announced this month?",
        "this month",
        (date(2023, 3, 1), date(2023, 3, 17)),
        "filter",
    ),
    ("What happened last month?", "last month", (date(2023, 2, 1), date(2023, 2, 28)), "filter"),
    ("Who won this year?", "this year", (date(2023, 1, 1), date(2023, 3, 17)), "boost"),
    ("Who won last year?", "last year", (date(2022, 1, 1), date(2022, 12, 31)), "boost"),
    (
        "What happened in March 2022?",
        "in March 2022",
        (date(2022, 3, 1), date(2022, 3, 31)),
        "filter",
    ),
    (
        "What happened in December?",
        "in December",
        (date(2022, 12, 1), date(2022, 12, 31)),
        "filter",
    ),
    ("What happened in March?", "in March", (date(2023, 3, 1), date(2023, 3, 17)), "filter"),
    ("Who won in 2021?", "in 2021", (date(2021, 1, 1), date(2021, 12, 31)), "boost"),
    ("What happened on March 3?", "on March 3", (date(2023, 3, 3), date(2023, 3, 3)), "filter"),
    ("What has changed since June?", "since June", (date(2022, 6, 1), date(2023, 3, 17)), "boost"),
    (
        "What has changed since June 2021?",
        "since June 2021",
        (date(2021, 6, 1), date(2023, 3, 17)),
        "boost",
    ),
    ("Who has led since 2020?", "since 2020", (date(2020, 1, 1), date(2023, 3, 17)), "boost"),
    (
        "What happened in the past 3 days?",
        "the past 3 days",
        (date(2023, 3, 15), date(2023, 3, 17)),
        "filter",
    ),
    (
        "What happened over the last two weeks?",
        "the last two weeks",
        (date(2023, 3, 4), date(2023, 3, 17)),
        "filter",
    ),
    (
        "What happened two weeks ago?",
        "two weeks ago",
        (date(2023, 2, 28), date(2023, 3, 6)),
        "filter",
    ),
    ("What was announced recently?", "recently", (date(2023, 2, 16), date(2023, 3, 17)), "boost"),
    (
        "What has Tehran revealed in recent months?",
        "in recent months",
        (date(2022, 12, 18), date(2023, 3, 17)),
        "boost",
    ),
    ("What are the latest numbers?", "latest", (date(2023, 2, 16), date(2023, 3, 17)), "boost"),
]


@pytest.mark.parametrize(("question", "expression", "window", "use"), TABLE)
def test_expression_table(question, expression, window, use):
    found = resolve_time_expression(question, AS_OF)
    assert found is not None
    assert found.expression == expression
    assert (found.start, found.end) == window
    assert found.use == use
    assert found.end <= AS_OF


@pytest.mark.parametrize(
    "question",
    [
        "Who heads the U.N. nuclear watchdog?",
        "What may happen to the bill?",
        "Who is Mayor Day?",
        "Which papers, including the USA TODAY Network, dropped the comic?",
        "Scientists have revived what animal that was frozen 46,000 years ago?",
    ],
)
def test_no_expression_no_filter(question):
    assert resolve_time_expression(question, AS_OF) is None


@pytest.mark.parametrize(
    ("question", "expression"),
    [
        ("Which city will host the Final Four this weekend?", "this weekend"),
        ("What is the Senate set to vote on on Tuesday?", "on Tuesday"),
    ],
)
def test_a_coming_day_or_weekend_means_the_news_of_the_week_before(question, expression):
    window = resolve_time_expression(question, AS_OF)  # a Friday
    assert window.expression == expression
    assert (window.start, window.end) == (date(2023, 3, 11), date(2023, 3, 17))


def test_weekend_on_sunday_is_this_weekend():
    sunday = date(2023, 3, 19)
    window = resolve_time_expression("What happened this weekend?", sunday)
    assert (window.start, window.end) == (date(2023, 3, 17), date(2023, 3, 19))


def test_publication_window_allows_previews_later_reports_but_never_the_future():
    window = resolve_time_expression("Who won last week?", AS_OF)  # Mon 6 .. Sun 12 March
    first, last = publication_window(window, AS_OF)
    assert first == date(2023, 3, 4) and last == date(2023, 3, 14)
    today = resolve_time_expression("What happened today?", AS_OF)
    assert publication_window(today, AS_OF)[1] == AS_OF


def test_widening_reaches_further_back():
    window = resolve_time_expression("What happened yesterday?", AS_OF)
    wider = window.widened(4, AS_OF)
    assert wider.start < window.start and wider.end == AS_OF


def test_filter_expression_is_removed_from_the_retrieval_query():
    window = resolve_time_expression("What did Congress pass this week?", AS_OF)
    assert (
        strip_expression("What did Congress pass this week?", window) == "What did Congress pass ?"
    )
    boost = resolve_time_expression("What was announced recently?", AS_OF)
    assert strip_expression("What was announced recently?", boost) == "What was announced recently?"


@pytest.mark.parametrize(
    "question, as_of, expression",
    [
        ("What happened in March 0?", date(2025, 5, 1), "March 0"),
        # A day the month doesn't have is an error, as "March 0" is; it was searched as the
        # month ("31 February 2020") or as its last day ("February 31").
        ("What happened on 31 February 2020?", date(2025, 5, 1), "31 February 2020"),
        ("What happened on February 31?", date(2025, 5, 1), "on February 31"),
        ("Who spoke since April 31?", date(2025, 5, 1), "since April 31"),
        ("What happened in 0000?", date(2025, 5, 1), "in 0000"),
        ("What changed since 0000?", date(2025, 5, 1), "since 0000"),
        ("What happened yesterday?", date(1, 1, 1), "yesterday"),
        ("What happened last week?", date(1, 1, 3), "last week"),
    ],
)
def test_a_date_outside_the_calendar_is_a_clear_error(question, as_of, expression):
    with pytest.raises(DateError, match=f"'{expression}' names no date in the calendar"):
        resolve_time_expression(question, as_of)


def test_windows_near_the_calendar_edges_stay_inside_it():
    first = DateWindow(date(1, 1, 5), date(1, 1, 6), "early")
    assert first.widened(4, date(1, 1, 6)).start == date(1, 1, 1)  # held at year 1
    assert publication_window(first, date(1, 1, 9))[0] == date(1, 1, 3)
    last = DateWindow(date(9999, 12, 28), date(9999, 12, 29), "late")
    assert publication_window(last, date.max) == (date(9999, 12, 26), date.max)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("What happened on 3 March 2023?", (date(2023, 3, 3), date(2023, 3, 3))),
        ("What happened on the 3rd of March?", (date(2023, 3, 3), date(2023, 3, 3))),
    ],
)
def test_a_day_written_day_first_is_that_day(question, expected):
    window = resolve_time_expression(question, AS_OF)
    assert (window.start, window.end) == expected


@pytest.mark.parametrize(
    "question",
    [
        "Who is the newly elected mayor?",  # "newly" says what, not when (#26)
        "Which team won 3 March Madness games?",  # a day first needs "on" or a year
    ],
)
def test_words_that_name_no_time_are_not_read_as_one(question):
    assert resolve_time_expression(question, AS_OF) is None


def test_this_week_is_the_seven_days_ending_at_as_of_and_searched_as_such():
    """#26: "this week" was searched over 9 days (2023-02-01 to 02-09 as of 02-09)."""
    window = resolve_time_expression("Who became the all-time leading scorer this week?", AS_OF)
    assert (window.start, window.end) == (date(2023, 3, 11), AS_OF)
    first, last = publication_window(window, AS_OF)
    assert (first, last) == (date(2023, 3, 11), AS_OF) and (last - first).days + 1 == 7
