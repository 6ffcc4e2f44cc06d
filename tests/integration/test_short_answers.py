"""Short answers from the real NER model (spaCy en_core_web_sm, offline from its wheel)."""

from __future__ import annotations

import pytest

from rag.answer.base import AnswerContext
from rag.answer.candidates import gather, shortlist
from rag.answer.entities import (
    PHRASE,
    asked_noun,
    entities,
    expected_labels,
    mentions,
    sure_short_answer,
)
from rag.answer.reader import question_spans
from rag.models import LocalEmbedding
from rag.types import Passage

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


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("Which wildly popular show was recently green lit for a new season?", "show"),
        ("Prior to leaping into politics, which sport did Herschel Walker play?", "sport"),
        ("Which food items were linked to the outbreak?", "food items"),
        ("Which meal kit service received hundreds of reports of illness?", "meal kit service"),
        # a possessive: the noun before it is what is asked for
        ("Which state's governor commuted the sentences of 17 inmates?", "state"),
        ("The return of which feature did Uber announce?", "feature"),
        ("What is it now called?", None),
        ("Who won the Hart Trophy this year?", None),
    ],
)
def test_the_noun_a_question_asks_for(question, noun):
    assert asked_noun(question) == noun


def test_noun_phrases_only_when_asked_for_and_without_pronouns_or_determiners():
    sentence = "It said the moon was the goal, and that polio was found in London sewage."
    (plain,) = mentions([sentence])
    (parsed,) = mentions([sentence], phrases=True)
    assert plain.phrases == [] and plain.entities == entities(sentence)
    texts = [p.text for p in parsed.phrases]
    assert "moon" in texts and "polio" in texts and "London sewage" in texts
    assert not {"It", "the moon", "that"} & set(texts)
    assert all(sentence[p.start : p.end] == p.text and p.label == PHRASE for p in parsed.phrases)


@pytest.fixture(scope="module")
def similarity():
    return LocalEmbedding(similarity_precision="float32").similarity


def _one_sentence(question: str, sentence: str, similarity) -> tuple[list, AnswerContext]:
    passage = Passage(
        chunk_id="c1", article_id="a1", title="News", text=sentence, start=0, end=len(sentence)
    )
    context = AnswerContext(
        question=question,
        retrieval_query=question,
        passages=[passage],
        kind="entity",
        entity_labels=expected_labels(question),
        weight=lambda term: 1.0,
        similarity=similarity,
        answer_noun=asked_noun(question),
    )
    return shortlist(context, gather(context, 1)), context


def test_a_noun_phrase_can_answer_what_no_entity_label_fits(similarity):
    ranked, context = _one_sentence(
        "What sport does Magnus Carlsen play?",
        "Magnus Carlsen has dominated chess for more than a decade.",
        similarity,
    )
    fits = {s.text: s.features["noun_fit"] for s in question_spans(ranked, context)}
    assert "chess" in fits and "Magnus Carlsen" not in fits  # the question names him
    assert fits["chess"] > max(fit for text, fit in fits.items() if text != "chess")
    # A span model trained before noun phrases is given named entities only.
    assert "chess" not in {s.text for s in question_spans(ranked, context, phrases=False)}


def test_no_noun_phrase_where_an_entity_label_is_asked_for(similarity):
    ranked, context = _one_sentence(
        "Who has dominated chess for more than a decade?",
        "Magnus Carlsen has dominated chess for more than a decade.",
        similarity,
    )
    assert [s.text for s in question_spans(ranked, context)] == ["Magnus Carlsen"]
