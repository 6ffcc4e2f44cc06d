import pytest

from ingest.clean import (
    canonical_url,
    clean_body,
    clean_title,
    content_hash,
    is_boilerplate,
    normalize_text,
)
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
        # #26 findings 5 and 17: cited as answer sentences before.
        "We will use the details you have shared to manage your registration. You agree to the "
        "processing, storage, sharing and use of this information for the purpose of the service.",
        "Matt Fagan is a reporter for NorthJersey.com. For unlimited access to the most important "
        "news from your local community, please subscribe or activate your digital account today.",
        "Support local journalism: Subscribe to azcentral.com today.",
        "Sign up for CNN’s Wonder Theory science newsletter. Explore the universe with news.",
        "Your subscription makes work like this possible. Subscribe today at DesMoinesRegister.com.",
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
        "Paradegoers can also sign up for free text alerts to get information on transit.",
        "Both companies face the fierce battle for subscribers, analysts said.",
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


@pytest.mark.parametrize(
    "title, source, expected",
    [
        ("Could he retire from F1? | The Week UK", "The Week UK", "Could he retire from F1?"),
        ("No magic for Disney investors - CNN", "CNN", "No magic for Disney investors"),
        ("Review: Dune - Part Two", "CNN", "Review: Dune - Part Two"),  # not the source's name
        ("Kids | The Week UK", None, "Kids | The Week UK"),  # no source to compare with
    ],
)
def test_a_title_loses_its_site_name_only_when_it_is_the_source(title, source, expected):
    assert clean_title(title, source) == expected
