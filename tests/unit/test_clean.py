import pytest

from ingest.clean import canonical_url, clean_body, content_hash, is_boilerplate, normalize_text
from tests.support import SAMPLE

SEED_LAST_LINE = (
    "For all the latest news from Oman and GCC, follow us on Instagram, like us on Facebook & "
    "subscribe to our YouTube Channel, which is updated daily."
)


def test_seed_article_boilerplate_line_is_stripped():
    text = (SAMPLE / "iran-will-not-be-coerced-into-talks.txt").read_text(encoding="utf-8")
    assert SEED_LAST_LINE in text
    body = clean_body(text)
    assert "Instagram" not in body
    assert body.endswith("an underground naval station.")
    assert "Rafael Grossi, the head of the U.N. nuclear watchdog" in body


@pytest.mark.parametrize(
    "line",
    [
        "Follow us on Twitter for the latest updates.",
        "Sign up for our morning newsletter to get the news in your inbox.",
        "Related news",
        "Related Stories: Storm season begins",
        "Read more: The mayor's full statement",
        "We use cookies to improve your experience. Accept all cookies",
        "Advertisement",
        "© 2024 Daily Planet. All rights reserved.",
        "Share this article",
    ],
)
def test_boilerplate_lines(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "The mayor said residents should follow the evacuation orders on Instagram and radio.",
        "Officials said the cookie factory would reopen on Monday.",
        "Related to the outage, the utility said crews worked through the night.",
    ],
)
def test_story_sentences_survive(line):
    assert not is_boilerplate(line)


def test_long_line_mentioning_follow_us_survives():
    line = "Follow us on " + "word " * 60
    assert not is_boilerplate(line)


def test_normalize_text_unicode_and_whitespace():
    raw = "Cafe\u0301\u00a0 opened\u200b today.\r\n\r\n\r\n\r\nSecond   para.\t "
    assert normalize_text(raw) == "Café opened today.\n\nSecond para."


def test_content_hash_ignores_spacing_and_case():
    assert content_hash("Title", "A  body\nhere") == content_hash("title", "a body here")
    assert content_hash("Title", "A body") != content_hash("Title", "Another body")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.com/a/b/?utm_source=x&id=3#top", "https://example.com/a/b?id=3"),
        ("https://example.com", "https://example.com/"),
        ("ftp://example.com/x", None),
        ("not a url", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected
