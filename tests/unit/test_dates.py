from datetime import date, datetime

import pytest

from ingest.dates import parse_published


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", date(2024, 3, 5)),
        ("2024-03-05T23:10:00+00:00", date(2024, 3, 5)),
        ("Tue, 05 Mar 2024 10:00:00 GMT", date(2024, 3, 5)),
        ("5 March 2024", date(2024, 3, 5)),
        ("March 5, 2024", date(2024, 3, 5)),
        (datetime(2024, 3, 5, 12), date(2024, 3, 5)),
        (date(2024, 3, 5), date(2024, 3, 5)),
        (1709632800, date(2024, 3, 5)),
        # Unknown stays unknown: nothing is invented.
        ("March 2024", None),
        ("2024", None),
        ("yesterday", None),
        ("2 days ago", None),
        ("soon", None),
        ("3024-01-01", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_published(value, expected):
    assert parse_published(value) == expected
