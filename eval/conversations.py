"""Two-turn conversations built from gold questions: is a follow-up answered as well as the
same question asked on its own?

A gold question names something ("... Where did Patriot Front plan to riot?"). Its
conversation asks about that thing first and then the gold question leaning on the first
turn, in one of two ways people do:

- ``pronoun``: "What's the latest on Patriot Front?", then "And where did it plan to riot?"
  (the name made a pronoun: "this person" for a person, since a quiz question doesn't say
  he or she; "it"/"its" for anything else, where the sentence stays grammatical; "there"
  for "in <place>");
- ``what-about``: the gold question about another thing of the same kind from the quiz
  questions of the same weeks ("... Where did Proud Boys plan to riot?"), then "And what
  about Patriot Front?" (the ellipsis: the first turn's question is meant again).

Only the follow-up's gold answer is known, and it is the gold question's: a follow-up is
answered as well as its standalone question when the chat gets it right whenever ``ask``
does. ``newsrag make-conversations`` writes a set (JSONL), ``newsrag eval --conversations``
scores it (docs/eval.md). Built from ``../shared`` questions at run time: no question text is
kept in this repository.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import rag
from eval.dataset import GoldQuestion, read_lines
from eval.errors import EvalError
from eval.metrics import contains_answer, first_sentence
from eval.progress import OnProgress

KINDS = ("pronoun", "what-about")
# Named things a follow-up can point back to; numbers, dates and groups ("Democrats") are no
# topic of their own.
TOPIC_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "FAC", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW"}
)
PEOPLE = frozenset({"PERSON"})
PLACES = frozenset({"GPE", "LOC"})
# "What about X?" swaps in another thing of the same kind asked about within this many days.
SAME_WEEKS_DAYS = 14
SHORTEST_TOPIC = 4  # characters: shorter names are mostly tagging noise ("U", "AP", "COO")
# A name as a name is written: capitalised words, "of"/"and"/"the" inside ("Bank of England");
# the small tagger also returns "Sunny” Balwani" and "the Supreme Court".
NAME = re.compile(r"[A-Z][\w.&'’-]*(?: (?:of|and|the|[A-Z][\w.&'’-]*))*")
# One-word "people" are mostly mis-tagged things ("Crown", "Instagram", "Covid").
PERSON_WORDS = 2
# "it" replaces a thing's name only where the sentence stays grammatical: before a verb
# ("Tesla has"), or after a preposition or verb and before punctuation or a function word
# ("shares of Tesla fell" no, "sold by Sotheby's." yes). A name used as a modifier ("which
# two Pac-12 schools") is not a topic here.
_VERB_NEXT = re.compile(
    r"^\s+(?:is|was|are|were|has|had|have|will|would|can|could|did|does|said|says|announced|"
    r"became|won|lost|plans|agreed|reported|released|unveiled|launched|filed|sued)\b"
)
_PREPOSITION_BEFORE = re.compile(
    r"\b(?:of|to|by|from|with|about|for|at|on|against|over|into|than|as|did|does|do|"
    r"sued|bought|joined|left|acquired|announced)\s+(?:the\s+)?$"
)
_ENDS_PHRASE = re.compile(
    r"^(?:\s*[.,;:?!)]|\s+(?:this|last|after|before|to|in|on|and|or|but|for|that|over|"
    r"since|amid|when|while|with)\b)"
)
_PREVIOUS_WORD = re.compile(r"(\S+)\s+$")
ABBREVIATION = 4  # "Gov." "Sen." "Rep.": a word this short ending in "." is a title
FUNCTION_WORDS = frozenset(
    re.findall(
        r"\w+",
        """the a an of to by from with about for at on
    in and or but that after before as when while is was has had did does said says than like
    between featuring against over into this last which""",
    )
)


@dataclass(frozen=True)
class Conversation:
    id: str
    kind: str  # one of KINDS
    first: str  # turn 1
    follow_up: str  # turn 2: needs turn 1 to be understood
    standalone: str  # turn 2 as the gold question that stands alone
    answer: str  # turn 2's gold answer
    question_date: date
    gold_article_ids: tuple[str, ...] = ()

    def to_json(self) -> str:
        row = asdict(self) | {"question_date": self.question_date.isoformat()}
        return json.dumps(row | {"gold_article_ids": list(self.gold_article_ids)})


@dataclass(frozen=True)
class _Topic:
    question: GoldQuestion
    text: str  # the name as the question writes it
    label: str
    start: int


def build_conversations(
    questions: Sequence[GoldQuestion], count: int, seed: int = 2022
) -> list[Conversation]:
    """Up to ``count`` conversations, half of each kind when the questions allow it, from
    answerable questions that name a topic other than their answer. Deterministic."""
    answerable = [q for q in questions if q.answerable]
    found = rag.named_entities([q.question for q in answerable])
    topics = [t for q, ents in zip(answerable, found, strict=True) if (t := _topic(q, ents))]
    random.Random(seed).shuffle(topics)
    conversations: list[Conversation] = []
    wanted = {kind: count // len(KINDS) + (i < count % len(KINDS)) for i, kind in enumerate(KINDS)}
    for topic in topics:
        kind = KINDS[len(conversations) % len(KINDS)]
        if wanted[kind] == 0:
            kind = next((k for k in KINDS if wanted[k]), None)
            if kind is None:
                break
        made = _pronoun(topic) if kind == "pronoun" else _what_about(topic, topics)
        if made is not None:
            conversations.append(made)
            wanted[kind] -= 1
    return conversations


def _topic(question: GoldQuestion, entities: list) -> _Topic | None:
    """The question's first named thing that isn't its answer and stands as a noun phrase of
    its own (not "President Biden", "American Hans Niemann": a title or adjective before it
    would be left dangling by a pronoun)."""
    answer = question.answer.casefold()
    text = question.question
    for entity in entities:
        name = entity.text.strip()
        folded = name.casefold()
        if (
            entity.label in TOPIC_LABELS
            and len(name) >= SHORTEST_TOPIC
            and folded not in answer
            and answer not in folded
            and text.count(name) == 1
            and NAME.fullmatch(name)
            and (entity.label not in PEOPLE or len(name.split()) >= PERSON_WORDS)
            and _stands_alone(text, entity.start)
        ):
            return _Topic(question, name, entity.label, entity.start)
    return None


def _stands_alone(text: str, start: int) -> bool:
    """Whether the name starts a sentence or follows a function word: never after a title or
    role ("Gov. Gavin Newsom", "NFL quarterback Deshaun Watson", "country singer Luke
    Bryan"), which a pronoun would leave dangling."""
    previous = _PREVIOUS_WORD.search(text[:start])
    if previous is None:  # the question's first word
        return True
    word = previous.group(1)
    if word.endswith(("?", "!", ":")) or (word.endswith(".") and len(word) > ABBREVIATION):
        return True  # a new sentence ("Gov." and "Sen." are titles)
    return word.strip(',;("“').casefold() in FUNCTION_WORDS


def _conversation(topic: _Topic, kind: str, first: str, follow_up: str) -> Conversation:
    q = topic.question
    return Conversation(
        id=f"{q.id}-{kind}", kind=kind, first=first, follow_up=follow_up,
        standalone=q.question, answer=q.answer, question_date=q.question_date,
        gold_article_ids=q.gold_article_ids,
    )  # fmt: skip


def _pronoun(topic: _Topic) -> Conversation | None:
    text, name, start = topic.question.question, topic.text, topic.start
    before, after = text[:start], text[start + len(name) :]
    if before.endswith(("the ", "The ")):
        before = before[: -len("the ")]  # "the Supreme Court" -> "it", not "the it"
    if topic.label in PLACES and before.endswith("in ") and not after.startswith(","):
        before, pronoun = before[: -len("in ")], "there"
    elif topic.label in PEOPLE:
        pronoun = "this person"  # its possessive "this person's" keeps the "'s" after it
    elif after.startswith(("'s", "’s")):
        after, pronoun = after[2:], "its"
    elif _VERB_NEXT.match(after) or (
        _PREPOSITION_BEFORE.search(before) and _ENDS_PHRASE.match(after)
    ):
        pronoun = "it"
    else:
        return None
    follow_up = f"And {_lower_first(before + pronoun + after)}"
    first = f"What's the latest on {name}?"
    return _conversation(topic, "pronoun", first, follow_up)


def _what_about(topic: _Topic, topics: Sequence[_Topic]) -> Conversation | None:
    """The same question about another topic of the same kind, then "And what about X?"."""
    day = topic.question.question_date
    others = sorted(
        (t for t in topics
         if t.label == topic.label and t.text.casefold() != topic.text.casefold()
         and abs((t.question.question_date - day).days) <= SAME_WEEKS_DAYS),
        key=lambda t: (abs((t.question.question_date - day).days), t.question.id),
    )  # fmt: skip
    if not others:
        return None
    text, start = topic.question.question, topic.start
    first = text[:start] + others[0].text + text[start + len(topic.text) :]
    return _conversation(topic, "what-about", first, f"And what about {topic.text}?")


def _lower_first(text: str) -> str:
    text = text.strip()
    # "Police arrested..." -> "and police arrested...", but never "And iPhone" or "And NASA".
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def write_conversations(conversations: Sequence[Conversation], path: Path) -> None:
    """The set as JSONL, whole or not at all; ``EvalError`` names a path it can't write."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text("".join(c.to_json() + "\n" for c in conversations), "utf-8")
        temporary.replace(path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise EvalError(f"--out {path}: cannot write ({error.strerror})") from None


def load_conversations(path: str | Path) -> list[Conversation]:
    path = Path(path)
    conversations = []
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            row["question_date"] = date.fromisoformat(row["question_date"])
            row["gold_article_ids"] = tuple(row.get("gold_article_ids", ()))
            conversations.append(Conversation(**row))
        except (ValueError, KeyError, TypeError) as error:
            raise EvalError(f"{path}:{number}: not a conversation ({error})") from None
    return conversations


# ----------------------------------------------------------------------------- scoring
@dataclass(frozen=True)
class ConversationResult:
    id: str
    kind: str
    config: str
    standalone_right: bool  # ask(standalone) holds the gold answer
    follow_up_right: bool  # chat([turn 1], follow_up) holds it
    # Wrong, and led with turn 1's answer's first sentence where the standalone question
    # doesn't: the previous answer given again as if it answered (a sentence that answers
    # both turns, or that the question gets on its own anyway, is no repeat).
    repeated: bool
    rewritten: str  # what the chat asked (its standalone rewrite)


def score_conversation(engine, conversation: Conversation, config: str) -> ConversationResult:
    as_of = conversation.question_date
    standalone = engine.ask(conversation.standalone, as_of=as_of)
    first = engine.ask(conversation.first, as_of=as_of)
    # The history as the chat window keeps it: each question with its Answer.
    follow = engine.chat([(conversation.first, first)], conversation.follow_up, as_of=as_of)

    def right(answer: rag.Answer) -> bool:
        return not answer.refused and contains_answer(answer.text, conversation.answer)

    lead = first_sentence(follow.text).strip()
    follow_up_right = right(follow)
    return ConversationResult(
        id=conversation.id,
        kind=conversation.kind,
        config=config,
        standalone_right=right(standalone),
        follow_up_right=follow_up_right,
        repeated=not follow_up_right
        and not follow.refused
        and not first.refused
        and bool(lead)
        and lead in first.text
        and lead not in standalone.text,
        rewritten=str(follow.debug.get("standalone_question", "")),
    )


def summarise_conversations(results: Sequence[ConversationResult]) -> dict[str, float]:
    """Shares over the conversations: the standalone and the follow-up answered, the follow-up
    answered as well as its standalone question (right whenever it is), and repeats."""
    n = max(len(results), 1)
    answered = [r for r in results if r.standalone_right]
    return {
        "conversations": len(results),
        "standalone_right": sum(r.standalone_right for r in results) / n,
        "follow_up_right": sum(r.follow_up_right for r in results) / n,
        "as_well": sum(r.follow_up_right or not r.standalone_right for r in results) / n,
        "kept_of_answered": sum(r.follow_up_right for r in answered) / max(len(answered), 1),
        "repeated": sum(r.repeated for r in results) / n,
    }


def run_conversations(
    path: str | Path,
    library_dir: Path,
    configs: Sequence[tuple[str, dict[str, Any]]],
    out: Path | None = None,
    on_progress: OnProgress | None = None,
) -> dict[str, dict[str, Any]]:
    """Score every conversation of ``path`` with each named configuration (settings overrides);
    returns {config: {"summary": ..., "by_kind": ..., "results": [...]}} and writes it to
    ``out/conversations.json``."""
    conversations = load_conversations(path)
    report: dict[str, dict[str, Any]] = {}
    for name, overrides in configs:
        engine = rag.open_engine(library_dir, **overrides)
        results = []
        started = time.perf_counter()
        for number, conversation in enumerate(conversations, 1):
            results.append(score_conversation(engine, conversation, name))
            if on_progress:
                on_progress(name, number, len(conversations))
        by_kind = {
            kind: summarise_conversations([r for r in results if r.kind == kind])
            for kind in sorted({r.kind for r in results})
        }
        report[name] = {
            "summary": summarise_conversations(results),
            "by_kind": by_kind,
            "seconds": round(time.perf_counter() - started, 1),
            "results": [asdict(r) for r in results],
        }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "conversations.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report
