"""The generated answer's contract: at most 3 sentences, about 60 words, no repeats, no fragment."""

from rag.answer.contract import MAX_WORDS, complete_enough, finished, hold_to
from rag.answer.llm import to_draft

A = "The festival drew 42,000 people [1]."
B = "Lena Marsh headlined [1]."
C = "A fourth day will be added [2]."


def test_repeats_and_a_cut_off_fragment_are_left_out():
    held = hold_to(
        f"{A} {B} {A}\n\nthe festival drew 42,000 people. {B} The festival was", cut_off=True
    )
    assert held.text == f"{A} {B}"
    assert held.left_out[0] == "The festival was"


def test_at_most_three_sentences_and_about_sixty_words():
    assert hold_to(f"{A} {B} {C} Another one [1].", cut_off=False).text == f"{A} {B} {C}"
    long = "Words " + " ".join(["word"] * (MAX_WORDS - 3)) + " [1]."
    assert hold_to(f"{long} {B}", cut_off=False).text == long  # B would pass 60 words
    assert hold_to(f"{long} {long}", cut_off=False).text == long
    huge = " ".join(["word"] * (MAX_WORDS + 20)) + "."
    assert hold_to(huge, cut_off=False).text == huge  # a first sentence is never cut


def test_an_unfinished_answer_that_ended_on_its_own_is_kept():
    assert (
        hold_to("The mayor cut the ribbon [1]", cut_off=False).text
        == "The mayor cut the ribbon [1]"
    )
    assert hold_to("The mayor cut the", cut_off=True).text == ""
    assert to_draft("The mayor cut the", cut_off=True).refused


def test_finished_sentences():
    assert finished('He said Iran would not bow to "bullying." [1]')
    assert finished("It rose 5% [1].") and finished("Really?") and not finished("a crowd of 42,000")


def test_generation_stops_once_more_can_only_be_left_out():
    assert not complete_enough(f"{A} {B}")
    assert not complete_enough(f"{A} {B} {C}")  # the model may still be ending its sentence
    assert complete_enough(f"{A} {B} {C} The")
    assert complete_enough(f"{A} {B} {A}")  # a repeat
    assert not complete_enough(f"{A} The festival drew")
