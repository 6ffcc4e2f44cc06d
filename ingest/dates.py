"""Published dates as found in metadata -> ``date``, or None. Never a guess.

ISO and RFC 2822 strings go through dateutil; other absolute forms ("5 March 2024") through
dateparser with relative parsing off: "2 days ago" in metadata would become the ingest day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from dateutil import parser as dateutil_parser

EARLIEST = date(1800, 1, 1)


@lru_cache(maxsize=1)
def _dateparser():
    import dateparser

    return dateparser.DateDataParser(
        languages=["en"],
        settings={"PARSERS": ["timestamp", "custom-formats", "absolute-time"]},
    )


def parse_published(value: object) -> date | None:
    """A plausible publication date, or None (unknown stays unknown)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    elif isinstance(value, int | float):
        parsed = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC).date()
    else:
        parsed = _parse_text(str(value).strip())
    if parsed is None:
        return None
    latest = datetime.now(UTC).date() + timedelta(days=2)  # time zones, embargoed feeds
    return parsed if EARLIEST <= parsed <= latest else None


def _parse_text(text: str) -> date | None:
    try:
        # Two different defaults: a field that changes with them was not in the text, so
        # "2024" or "March 2024" is not silently turned into a first of January or March.
        first = dateutil_parser.parse(text, default=datetime(1, 1, 1))
        second = dateutil_parser.parse(text, default=datetime(2, 2, 2))
        if first == second:
            return first.date()
        return None
    except (ValueError, OverflowError):
        pass
    result = _dateparser().get_date_data(text)
    if result and result.date_obj and result.period == "day":
        return result.date_obj.date()
    return None
