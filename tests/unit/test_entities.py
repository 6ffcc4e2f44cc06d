"""Which entity labels a question asks for: the table of rag/answer/entities.py, row by row."""

from __future__ import annotations

import pytest

from rag.answer.entities import (
    AGES,
    DATES,
    DURATIONS,
    EVENTS,
    NUMBERS,
    ORGS,
    PEOPLE,
    PLACES,
    TEAMS,
    WHO,
    WORKS,
    clean_span,
    expected_labels,
)


@pytest.mark.parametrize(
    ("question", "labels"),
    [
        ("Who heads the U.N. nuclear watchdog?", WHO),
        ("Whose painting sold for a record price?", WHO),
        ("Which automaker recalled 2.9 million vehicles this week?", ORGS),
        ("Which wildly popular show was recently green lit for a new season?", WORKS),
        ("What country elected its first-ever leftist leader this week?", PLACES),
        ("Where did the ferry run aground?", PLACES),
        ("Which Yankees star tied the American League record for homers?", PEOPLE),
        # the first noun a table knows decides: a country, not a minister
        ("Giorgia Meloni became which country’s new prime minister?", PLACES),
        ("How many subscribers did Netflix lose?", NUMBERS),
        ("By how much did prices rise?", NUMBERS),
        ("What percentage of adults disapprove?", NUMBERS),
        # ages and spans of time are dates or times to the model: "the 101-year-old"
        ("The rate is the highest in how many years?", DURATIONS),
        ("Balancing on one leg for how many seconds predicts longevity?", DURATIONS),
        ("How long did the strike last?", DURATIONS),
        ("How old is Frost?", AGES),
        ("At what age did she retire?", AGES),
        # a national team is named by its country
        ("What team was crowned the World Cup champion?", TEAMS),
        ("When did Internet Explorer debut?", DATES),
        ("Microsoft retired Internet Explorer. What year did it debut?", DATES),
        ("Which storm hit Florida?", EVENTS),
        # a preamble doesn't count: only the asking sentence does
        ("Tony Dow starred in a sitcom. Who died this week at 77?", WHO),
    ],
)
def test_question_to_labels(question, labels):
    assert expected_labels(question) == labels


@pytest.mark.parametrize(
    "question",
    ["What did the council decide?", "Why was the vote delayed?", "Is the bridge open again?"],
)
def test_questions_that_ask_for_no_entity(question):
    assert expected_labels(question) is None


def test_clean_span_drops_possessives():
    assert clean_span("the United Kingdom's") == "the United Kingdom"
    assert clean_span("Harry Styles'") == "Harry Styles"
    assert clean_span("Rafael Grossi") == "Rafael Grossi"


FULL_NAMES = [
    "The Detroit Lions beat the Rams on Sunday. The Lions had not won a playoff game since 1992.",
    "LeBron James passed Kareem Abdul-Jabbar. James scored 38 points.",
    "President Joe Biden spoke on Monday. On Tuesday Biden said more.",
    "Michael J. Fox said so.",
    "Mayor Tom Becker cut the ribbon.",
]


@pytest.mark.parametrize(
    "span, label, expected",
    [
        ("Lions", "ORG", "Detroit Lions"),  # the example
        ("James", "PERSON", "LeBron James"),  # not "Abdul-Jabbar. James": a sentence ends there
        ("Biden", "PERSON", "Joe Biden"),  # titles and sentence openers are no part of a name
        ("Fox", "PERSON", "Michael J. Fox"),  # an initial is
        ("Rams", "ORG", "Rams"),  # "the Rams": nothing fuller is said
        ("Tom Becker", "PERSON", "Tom Becker"),  # a full name already: "Mayor" is a title
        ("38", "CARDINAL", "38"),  # numbers are not names
    ],
)
def test_a_short_answer_is_named_as_fully_as_the_articles_name_it(span, label, expected):
    from rag.answer.entities import fullest_name

    assert fullest_name(span, label, FULL_NAMES) == expected
