"""Questions for the empty chat: what a person would ask about the newest articles' subjects,
not their headlines quoted whole (issue #26, finding 8)."""

from __future__ import annotations

from rag import Article, suggested_questions


def article(title: str, body: str = "Nothing named here.") -> Article:
    return Article(id=title[:8], title=title, body=body, content_hash=title, version="1")


def test_a_headline_becomes_a_question_about_its_subject():
    articles = [
        article("Shohei Ohtani free agency hysteria should be reckoning for MLB ..."),
        article("Tesla recalls 2023: Check full list of car models recalled this year"),
        article("Brenda Lee's 'Rockin' Around the Christmas Tree' finally tops Hot 100"),
    ]
    assert suggested_questions(articles, 3) == [
        "What's the latest on Shohei Ohtani?",
        "What's the latest on Tesla?",
        "What's the latest on Brenda Lee?",  # the owner, not "Brenda Lee's 'Rockin"
    ]


def test_places_are_asked_about_as_places_and_subjects_are_not_repeated():
    articles = [
        article("Shohei Ohtani's record-breaking contract sits atop impressive list"),
        article("Shohei Ohtani free agency hysteria should be reckoning for MLB ..."),
        article("Ohio voters approve abortion rights amendment"),
    ]
    assert suggested_questions(articles, 5) == [
        "What's the latest on Shohei Ohtani?",
        "What's the latest on MLB?",  # Ohtani is taken: the headline's next subject
        "What's happening in Ohio?",
    ]


def test_a_headline_naming_nothing_asks_about_its_lead_and_count_is_kept():
    bridge = article(
        "Harbour bridge reopens after two-year repair",
        "Mayor Tom Becker cut the ribbon on Monday. About 14,000 vehicles cross it each day.",
    )
    assert suggested_questions([bridge], 3) == ["What's the latest on Tom Becker?"]
    assert suggested_questions([article("10 things to know today")], 3) == []
    many = [article(t) for t in ("Tesla recalls cars", "Ohio votes", "Biden speaks")]
    assert len(suggested_questions(many, 2)) == 2
