"""Short answers from the real NER model (spaCy en_core_web_sm, offline from its wheel)."""

from __future__ import annotations

import pytest

from rag.answer.entities import entities, expected_labels, sure_short_answer

pytestmark = pytest.mark.slow


def test_the_model_loads_offline_and_finds_entities():
    found = {(e.text, e.label) for e in entities("Rafael Grossi spoke in Vienna on Monday.")}
    assert ("Rafael Grossi", "PERSON") in found and ("Vienna", "GPE") in found


@pytest.mark.parametrize(
    ("sentence", "question", "source", "expected"),
    [
        ("Rafael Grossi, the head of the U.N. nuclear watchdog, said time is short.",
         "Who heads the U.N. nuclear watchdog?", None, "Rafael Grossi"),
        # the article's own publisher in a dateline is never the answer
        ("(CNN Business) Ford is recalling 2.9 million vehicles.",
         "Which automaker recalled 2.9 million vehicles?", "CNN Business", "Ford"),
        # two candidates of the asked-for label: a guess, so none
        ("Ford and Toyota are recalling vehicles.", "Which automaker recalled vehicles?", None,
         None),
        # the only person is one the question names: nothing new, so none
        ("Rafael Grossi said time is short.", "What did Rafael Grossi say?", None, None),
        # a question that asks for no entity gets no short answer
        ("The council voted 7 to 2 for the plan.", "What did the council decide?", None, None),
    ],
)  # fmt: skip
def test_a_short_answer_only_when_one_entity_fits(sentence, question, source, expected):
    assert sure_short_answer(sentence, question, expected_labels(question), source) == expected
