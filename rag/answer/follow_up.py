"""The standalone question a follow-up means, from the previous turn's question and answer.

"And whose record did he break?" after "Which athlete became the NBA's all-time leading
scorer?" means LeBron James, the previous *answer*; "And what is it worth?" after "What's the
latest on Netflix?" means Netflix, the previous *question*'s topic; "And what about Hawaii?"
means the previous question again, about Hawaii. Measured on two-turn conversations built
from the train questions (``newsrag eval --conversations``, docs/eval.md).

The rules, in order:

1. Not a follow-up (no pronoun, no "and ..."/"what about ..."): asked as it is.
2. "what about X?": the previous question with its named thing of X's kind replaced by X.
3. A pronoun whose referent is found: replaced by it. Who "he"/"this person" is depends on
   the previous question: if it asked for a person, its answer's person; otherwise the
   person it named. "It" is the thing the previous question named (or asked for), "there"
   its place, "they" either.
4. Otherwise the referent, or the previous question, is added as context in parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer.entities import Entity, entities
from rag.answer.question import answer_type, best_span, candidate_spans
from rag.text import first_sentence
from rag.types import Answer

_LEADING = re.compile(r"^\s*(and|but|so|also|then)\b[\s,]*", re.I)
_WHAT_ABOUT = re.compile(
    r"^\s*(?:and\s+|but\s+)?(?:what|how)\s+about\s+(?P<topic>.+?)\s*\??\s*$", re.I
)
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|so|also|what about|how about)\b|\b(he|she|him|her|his|hers|they|them|their|"
    r"it|its|this|that|these|those|there|then)\b",
    re.I,
)
# Pronouns by what they can stand for, longest first ("this person" before "this").
PERSON_WORDS = r"this person|he|she|him|her|his|hers"
THING_WORDS = r"it|its"
EITHER_WORDS = r"they|them|their"
PLACE_WORDS = r"there"
_PRONOUN = re.compile(
    rf"\b(?P<word>{PERSON_WORDS}|{THING_WORDS}|{EITHER_WORDS}|{PLACE_WORDS})\b(?P<owner>['’]s)?",
    re.I,
)
_POSSESSIVE = frozenset({"his", "her", "hers", "its", "their"})
PEOPLE = frozenset({"PERSON"})
PLACES = frozenset({"GPE", "LOC", "FAC"})
THINGS = frozenset({"ORG", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "GPE", "LOC", "FAC"})
GROUPS = frozenset({"PERSON", "ORG", "NORP", "GPE"})  # what "they" may be
# A referent is a person's name, not their title: "Supreme Leader ... Ali Khamenei" -> the last
# two words (given and family name).
REFERENT_NAME_WORDS = 2


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation: what was asked and answered (and the answer's short
    answer, when the history gave an ``Answer``: the surest referent of "he" or "it")."""

    question: str
    answer: str
    short_answer: str | None = None


def conversation_pairs(history: Sequence[Any] | None) -> list[Turn]:
    """The turns of a history of (user, assistant) pairs, the assistant's part text or an
    ``Answer`` (or its JSON dict), or of chat messages ({"role", "content"} dicts, as Gradio
    and OpenAI-style clients keep them); None is no history. ``ValueError`` names what is not
    a turn."""
    if history is None:
        return []
    if isinstance(history, str | bytes) or not isinstance(history, Sequence):
        raise ValueError(
            "history must be a list of (question, answer) pairs or chat messages, "
            f"not {type(history).__name__}"
        )
    pairs: list[Turn] = []
    pending_user: str | None = None
    for number, item in enumerate(history, 1):
        if isinstance(item, Turn):
            pairs.append(item)
            continue
        is_pair = isinstance(item, list | tuple) and len(item) == 2
        if not isinstance(item, dict) and not is_pair:
            raise ValueError(
                f"history item {number}: expected a (question, answer) pair or a "
                f"{{'role', 'content'}} message, got {item!r:.80}"
            )
        if isinstance(item, dict):
            role, content = item.get("role"), str(item.get("content") or "")
            if role == "user":
                pending_user = content
            elif role == "assistant" and pending_user is not None:
                pairs.append(Turn(pending_user, content))
                pending_user = None
        else:
            user, assistant = item
            pairs.append(_turn(str(user), assistant))
    return pairs


def _turn(question: str, assistant: Any) -> Turn:
    if isinstance(assistant, dict):  # an Answer's JSON, as the chat window keeps it
        return Turn(question, str(assistant.get("text") or ""), assistant.get("short_answer"))
    if isinstance(assistant, Answer):
        return Turn(question, assistant.text, assistant.short_answer)
    return Turn(question, str(assistant or ""))


def is_follow_up(message: str) -> bool:
    """Whether ``message`` leans on the conversation ("and who answered him?", "what about
    ..."): only then may the history shape the question asked."""
    return bool(_FOLLOW_UP.search(message))


def rewrite_follow_up(history: Sequence[Any], message: str) -> str:
    """The standalone question ``message`` means after ``history`` (``conversation_pairs``'
    shapes; the rules above)."""
    message = message.strip()
    turns = conversation_pairs(history)
    if not turns or not is_follow_up(message):
        return message
    previous = turns[-1]
    previous_question = previous.question
    named = [e for e in entities(previous_question) if e.label in THINGS | PEOPLE]
    about = _WHAT_ABOUT.match(message)
    if about and (again := _asked_again_about(previous_question, named, about.group("topic"))):
        return again
    answered = _answer_referent(previous)
    core = _LEADING.sub("", message)
    core = core[:1].upper() + core[1:]
    for match in _PRONOUN.finditer(core):
        referent = _referent(match.group("word").lower(), previous_question, named, answered)
        if referent:
            owner = match.group("word").lower() in _POSSESSIVE or match.group("owner")
            said = f"{referent}'s" if owner else referent
            if re.fullmatch(PLACE_WORDS, match.group("word").lower()):
                said = f"in {referent}"  # "customers there" -> "customers in Florida"
            return core[: match.start()] + said + core[match.end() :]
    return f"{core.rstrip('?')} ({answered or previous_question.rstrip('?')})?"


def _asked_again_about(previous_question: str, named: list[Entity], topic: str) -> str | None:
    """ "What about X?": the previous question about X instead of what it named of X's kind,
    or else of any kind (None when X is no name: "what about the sanctions?" is no swap)."""
    topic = topic.strip().rstrip("?").strip()
    kinds = {e.label for e in entities(topic)}
    if not kinds:  # not a named thing
        return None
    # The small tagger often labels one name two ways ("Hawaii" GPE alone, ORG in context):
    # another kind's name is swapped when the question named nothing of this kind.
    replaced = next((e for e in named if e.label in kinds), named[0] if named else None)
    if replaced is None:
        return None
    return previous_question[: replaced.start] + topic + previous_question[replaced.end :]


def _answer_referent(previous: Turn) -> str | None:
    """The person, place or thing the previous answer gave, if its question asked for one:
    its short answer, or else its lead sentence's best span of the asked type."""
    kind = answer_type(previous.question)
    if kind in ("number", "date"):
        return None
    referent = previous.short_answer
    if not referent:
        lead = first_sentence(re.sub(r"\[\d+\]", "", previous.answer))
        referent = best_span(
            candidate_spans(lead, "person" if kind == "entity" else kind, previous.question),
            previous.question,
            lead,
        )
    if referent and kind in ("person", "entity"):
        referent = " ".join(referent.split()[-REFERENT_NAME_WORDS:])
    return referent


def _referent(
    pronoun: str, previous_question: str, named: list[Entity], answered: str | None
) -> str | None:
    """What ``pronoun`` stands for: the previous answer when the previous question asked for
    what the pronoun can be, else what the previous question named of that kind."""
    asked = answer_type(previous_question)

    def named_as(labels: frozenset[str]) -> str | None:
        return next((e.text for e in named if e.label in labels), None)

    if re.fullmatch(PERSON_WORDS, pronoun):
        return (answered if asked == "person" else None) or named_as(PEOPLE) or answered
    if re.fullmatch(PLACE_WORDS, pronoun):
        return (answered if asked == "place" else None) or named_as(PLACES)
    if re.fullmatch(THING_WORDS, pronoun):
        return named_as(THINGS) or (answered if asked == "entity" else None)
    return (answered if asked in ("person", "entity") else None) or named_as(GROUPS)
