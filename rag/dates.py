"""Time expressions in a question -> a window of publication dates, anchored at ``as_of``.

The table of expressions and their windows is in ``docs/dates.md`` (and tested row by row in
``tests/unit/test_dates_expressions.py``).

Why "this week" is rolling (7 days) and not Monday..as_of: a question asked on a Monday about
"this week" means the news of the past days, and news quizzes are written that way.

Filters apply to publication dates with a grace period: reports about an event appear on the
days after it, and previews ("Met Gala 2023: how to watch") in the days before, so a window
[start, end] admits articles published in [start - 2, end + grace], never after as_of. If a
filtered search finds nothing, the engine widens the window and records that in the answer's
debug info. "Boost" windows filter nothing; they lift articles inside them.

Without an expression a news question is still about the news of its day: "Which car company
is recalling 143,000 SUVs?" asks about the recall in this week's papers, not one from 2020.
``RecencyPrior`` weighs evidence by its age, so a years-old near-miss no longer outranks, or
answers in place of, the article the question is about (see docs/dates.md).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from rag.errors import NewsragError

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
_MONTH = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_NUMBER_WORDS = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "few": 3, "couple of": 2, "several": 4,
}  # fmt: skip
_COUNT = r"(\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"


# A question about what is coming: its day or weekend is after as_of, its news before.
_FUTURE = re.compile(
    r"\b(?:will|(?:set|scheduled|expected|plans?) to|(?:is|are) (?:going|due) to|upcoming)\b", re.I
)
PREVIEW_DAYS = 2  # dev + distractors: hit@5 +0.006, accuracy +0.006 over 1 day
# Windows longer than this only boost: a year says little about when the articles appeared.
LONGEST_FILTER_DAYS = 62
# "In recent months" and "recently" are vague: they lift (boost) the last 90 and 30 days,
# counting as_of itself, and filter nothing (docs/dates.md).
RECENT_MONTHS_DAYS = 90
RECENTLY_DAYS = 30


class DateError(NewsragError, ValueError):
    """A time expression that names no real date ("March 0", "in 0000", "yesterday" as of
    0001-01-01)."""


def shift(day: date, days: int) -> date:
    """``day`` moved by ``days``, held inside the calendar (years 1 to 9999)."""
    return date.fromordinal(min(max(day.toordinal() + days, 1), date.max.toordinal()))


@dataclass(frozen=True)
class DateWindow:
    """Publication dates an answer should come from (inclusive)."""

    start: date
    end: date
    expression: str
    use: Literal["filter", "boost"] = "filter"

    def contains(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end

    def widened(self, factor: int, as_of: date) -> DateWindow:
        """The same window reaching ``factor`` times as far back (for empty results)."""
        span = max((self.end - self.start).days + 1, 7)
        return DateWindow(shift(self.start, -span * (factor - 1)), as_of, self.expression)

    def to_dict(self) -> dict[str, str]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "expression": self.expression,
            "use": self.use,
        }


@dataclass(frozen=True)
class RecencyPrior:
    """Evidence published long before the question's "now" counts for less, never for nothing.

    The weight halves its distance to ``floor`` every ``half_life_days``: a week-old article
    keeps 0.95, a year-old one 0.7 (the defaults). Undated articles keep 1: nothing says they
    are stale.
    """

    now: date
    half_life_days: float = 30.0
    floor: float = 0.7

    def weight(self, published: date | None) -> float:
        if published is None:
            return 1.0
        age = max((self.now - published).days, 0)
        return self.floor + (1 - self.floor) * 0.5 ** (age / self.half_life_days)

    def to_dict(self) -> dict[str, object]:
        return {"now": self.now.isoformat(), "half_life_days": self.half_life_days,
                "floor": self.floor}  # fmt: skip


_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def recency_prior(
    question: str,
    window: DateWindow | None,
    now: date | None,
    half_life_days: float,
    floor: float,
) -> RecencyPrior | None:
    """The prior for ``question``, or None when it asks about the past on purpose.

    ``now``: the question's day capped at the newest article in the library (a library that
    ends in 2023 is read as of its last day, or every question about it would look stale).
    A window from a time expression moves "now" to its end; a year-long window ("in 2022") or a
    past year named in the question ("the 2016 election") turns the prior off.
    """
    if floor >= 1 or now is None:
        return None
    if window is not None:
        if (window.end - window.start).days + 1 > LONGEST_FILTER_DAYS:
            return None
        now = min(now, window.end)
    elif any(int(year) < now.year for year in _YEAR.findall(question)):
        return None
    return RecencyPrior(now, half_life_days, floor)


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _latest_month(month: int, as_of: date) -> int:
    """Year of the latest given month that is not after as_of."""
    return as_of.year if month <= as_of.month else as_of.year - 1


def _count(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS[text]


def _grace(start: date, end: date) -> int:
    """Days after a window in which reports about it still appear (a Sunday final is
    written up on Tuesday)."""
    return min(7, max(2, ((end - start).days + 1) // 4))


# Each rule: a pattern and a function (match, as_of) -> (start, end[, use]).
_Rule = tuple[re.Pattern[str], object]


def _rules() -> list[_Rule]:
    def r(pattern: str):
        def register(function):
            rules.append((re.compile(pattern, re.IGNORECASE), function))
            return function

        return register

    rules: list[_Rule] = []

    @r(
        r"\b(?:in|during|since|over)\s+(?:the\s+)?(?:past|last)\s+"
        + _COUNT
        + r"\s+(day|week|month|year)s?\b"
    )
    @r(r"\b(?:the\s+)?(?:past|last)\s+" + _COUNT + r"\s+(day|week|month|year)s?\b")
    def _past_n(m, as_of):
        days = _count(m.group(1).lower()) * _UNIT_DAYS[m.group(2).lower()]
        return as_of - timedelta(days=days - 1), as_of

    @r(r"(?<![\d,.])\b" + _COUNT + r"\s+(day|week|month|year)s?\s+ago\b")  # not "46,000 years"
    def _ago(m, as_of):
        days = _count(m.group(1).lower()) * _UNIT_DAYS[m.group(2).lower()]
        point = as_of - timedelta(days=days)
        slack = timedelta(days=max(1, days // 4))
        return point - slack, min(as_of, point + slack)

    @r(r"\bsince\s+" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b")
    def _since_day(m, as_of):
        month, day = MONTHS[m.group(1).lower()], int(m.group(2))
        year = int(m.group(3)) if m.group(3) else _latest_month(month, as_of)
        return date(year, month, day), as_of

    @r(r"\bsince\s+" + _MONTH + r"(?:\s+(\d{4}))?\b")
    def _since_month(m, as_of):
        month = MONTHS[m.group(1).lower()]
        year = int(m.group(2)) if m.group(2) else _latest_month(month, as_of)
        return date(year, month, 1), as_of

    @r(r"\bsince\s+(\d{4})\b")
    def _since_year(m, as_of):
        return date(int(m.group(1)), 1, 1), as_of

    @r(r"\b(?:on\s+)?" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b")
    def _day(m, as_of):
        month, day = MONTHS[m.group(1).lower()], int(m.group(2))
        year = int(m.group(3)) if m.group(3) else _latest_month(month, as_of)
        found = date(year, month, day)  # "February 31": no such day, a clear error
        return found, found

    # Day first, as much of the world writes it: "31 February 2020", "on 3 March". Without a
    # year only after "on": "won 3 March Madness games" names no date.
    # (Decorators register bottom-up: the form with a year is tried first.)
    @r(r"\bon\s+(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\b()(?!,?\s*\d)")
    @r(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(\d{4})\b")
    def _day_first(m, as_of):
        day, month = int(m.group(1)), MONTHS[m.group(2).lower()]
        year = int(m.group(3)) if m.group(3) else _latest_month(month, as_of)
        found = date(year, month, day)  # "31 February": no such day, a clear error
        return found, found

    @r(r"\b(?:in|during|of)?\s*" + _MONTH + r",?\s+(\d{4})\b")
    def _month_year(m, as_of):
        return _month_range(int(m.group(2)), MONTHS[m.group(1).lower()])

    @r(r"\b(?:in|during)\s+" + _MONTH + r"(?!\s+\d)\b")
    def _month(m, as_of):
        month = MONTHS[m.group(1).lower()]
        return _month_range(_latest_month(month, as_of), month)

    @r(r"\b(?:in|during)\s+(\d{4})\b")
    def _year(m, as_of):
        year = int(m.group(1))
        return date(year, 1, 1), date(year, 12, 31)

    @r(r"(?-i:\b[Tt]oday\b)|\bthis morning\b|\btonight\b")  # not "USA TODAY"
    def _today(m, as_of):
        return as_of, as_of

    @r(r"\byesterday\b|\blast night\b")
    def _yesterday(m, as_of):
        return as_of - timedelta(days=1), as_of - timedelta(days=1)

    @r(r"\blast\s+weekend\b")
    def _last_weekend(m, as_of):
        saturday = as_of - timedelta(days=(as_of.weekday() - 5) % 7)
        if saturday + timedelta(days=1) >= as_of:  # still in (or just at) this weekend
            saturday -= timedelta(days=7)
        return saturday - timedelta(days=1), saturday + timedelta(days=1)

    @r(r"\b(?:this|over the)\s+(?:past\s+)?weekend\b")
    def _this_weekend(m, as_of):
        if _FUTURE.search(m.string):  # "will host ... this weekend": reported in the days before
            return as_of - timedelta(days=6), as_of
        saturday = as_of - timedelta(days=(as_of.weekday() - 5) % 7)
        return saturday - timedelta(days=1), min(as_of, saturday + timedelta(days=1))

    @r(r"\blast\s+week\b|\bthe\s+previous\s+week\b|\bthe\s+week\s+before\b")
    def _last_week(m, as_of):
        monday = as_of - timedelta(days=as_of.weekday() + 7)
        return monday, monday + timedelta(days=6)

    @r(r"\b(?:this|past|earlier this)\s+(?:past\s+)?week\b|\bthis\s+week's\b")
    def _this_week(m, as_of):
        return as_of - timedelta(days=6), as_of

    @r(r"\blast\s+month\b|\bthe\s+previous\s+month\b")
    def _last_month(m, as_of):
        first = as_of.replace(day=1) - timedelta(days=1)
        return _month_range(first.year, first.month)

    @r(r"\b(?:this|earlier this)\s+month\b")
    def _this_month(m, as_of):
        return as_of.replace(day=1), as_of

    @r(r"\blast\s+year\b|\bthe\s+previous\s+year\b")
    def _last_year(m, as_of):
        return date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31)

    @r(r"\b(?:this|earlier this)\s+year\b")
    def _this_year(m, as_of):
        return date(as_of.year, 1, 1), as_of

    @r(r"\bon\s+(" + "|".join(WEEKDAYS) + r")\b")
    def _weekday(m, as_of):
        if _FUTURE.search(m.string):  # "will vote on Tuesday": the coming one, not the last
            return as_of - timedelta(days=6), as_of
        back = (as_of.weekday() - WEEKDAYS.index(m.group(1).lower())) % 7
        day = as_of - timedelta(days=back)
        return day, day

    @r(r"\b(?:in\s+)?recent\s+months\b|\bthe\s+past\s+few\s+months\b")
    def _recent_months(m, as_of):
        return as_of - timedelta(days=RECENT_MONTHS_DAYS - 1), as_of, "boost"

    @r(
        # Not "newly": "the newly elected mayor" says what, not when (#26: it was read as one).
        r"\brecent(?:ly)?\b|\blately\b|\blatest\b|\bthese\s+days\b|\bin\s+recent\s+weeks\b"
    )
    def _recently(m, as_of):
        return as_of - timedelta(days=RECENTLY_DAYS - 1), as_of, "boost"

    return rules


_RULES = _rules()


def resolve_time_expression(question: str, as_of: date) -> DateWindow | None:
    """The first time expression in ``question``, or None: no expression, no filter."""
    for pattern, resolve in _RULES:
        match = pattern.search(question)
        if not match:
            continue
        try:
            result = resolve(match, as_of)  # type: ignore[operator]
        except (ValueError, OverflowError):  # day 0, month 13, year 0, before year 1
            raise DateError(
                f"{match.group(0).strip()!r} names no date in the calendar "
                f"(as of {as_of}; years 1 to 9999)"
            ) from None
        start, end = result[0], min(result[1], as_of)
        use = result[2] if len(result) > 2 else "filter"
        if (end - start).days + 1 > LONGEST_FILTER_DAYS:
            use = "boost"  # "in 2022", "last year": such events are reported months later
        if start > as_of:  # e.g. "in December" asked in January of the same year
            continue
        return DateWindow(start, end, match.group(0).strip(), use)
    return None


def publication_window(window: DateWindow, as_of: date) -> tuple[date, date]:
    """Publication dates admitted for an event window: previews from two days before, reports
    for a grace period after. A window that runs up to as_of ("this week": the 7 days ending
    at as_of) is searched as it is: the person sees the 7 days they asked for, not 9."""
    end = min(as_of, shift(window.end, _grace(window.start, window.end)))
    if window.end >= as_of:
        return window.start, end
    return shift(window.start, -PREVIEW_DAYS), end


def strip_expression(question: str, window: DateWindow | None) -> str:
    """The question without its time expression, for retrieval (dates are filtered instead)."""
    if window is None or window.use == "boost":
        return question
    return re.sub(r"\s{2,}", " ", question.replace(window.expression, " ")).strip()
