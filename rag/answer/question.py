"""What a question asks for, and spans of a sentence that could be its short answer."""

from __future__ import annotations

import re
from typing import Literal

from rag.text import sentence_spans

AnswerType = Literal["person", "number", "date", "place", "entity"]

_PEOPLE = (
    r"person|man|woman|official|leader|politician|president|senator|actor|actress|singer|player|"
    r"athlete|ceo|executive|judge|lawmaker|candidate|celebrity|rapper|star|author|writer|director|"
    r"journalist|golfer|dancer|quarterback|coach|pitcher|swimmer|skater|boxer|musician|comedian|"
    r"host|anchor|chef|artist|designer|billionaire|entrepreneur|founder|activist|scientist|"
    r"astronaut|governor|mayor|minister|king|queen|prince|princess|pope|footballer|cyclist|driver|"
    r"chancellor|premier|spokesperson|spokesman|spokeswoman|official|member|lawyer|doctor"
)
_PLACES = r"country|city|state|town|place|region|county|nation|island|continent|province|capital"
_WHICH = r"\b(?:which|what)\s+(?:[\w’'.-]+\s+){0,2}?"

_TYPES: list[tuple[AnswerType, re.Pattern[str]]] = [
    ("number", re.compile(
        r"\bhow (many|much|old|long|far|tall|big|large|high|often)\b|"
        r"\bwhat (percentage|percent|share|number|amount|age|price|sum|total|fraction|"
        r"proportion)\b|"
        r"\bby how\b|\bin how many\b", re.I)),
    ("date", re.compile(
        r"\bwhen\b|\bwhat (year|day|date|month|time|decade|century)\b|"
        r"\bwhich (year|day|date|month|decade)\b|\bin what year\b|\bsince when\b", re.I)),
    ("person", re.compile(
        r"\b(who|whom|whose)\b|" + _WHICH + r"(" + _PEOPLE + r")s?\b|\bname of the\b", re.I)),
    ("place", re.compile(
        r"\bwhere\b|" + _WHICH + r"(" + _PLACES + r")\b|\bin what (country|city|state)\b", re.I)),
]  # fmt: skip


def asking_part(question: str) -> str:
    """The interrogative sentence of a question with a preamble ("X happened. Who ...?")."""
    parts = [question[start:end] for start, end in sentence_spans(question)]
    asking = [p for p in parts if p.endswith("?")]
    return asking[-1] if asking else parts[-1] if parts else question


def answer_type(question: str) -> AnswerType:
    asking = asking_part(question)
    for kind, pattern in _TYPES:
        if pattern.search(asking):
            return kind
    return "entity"


_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|thousand|dozen|dozens|hundreds|thousands|half|a third|a quarter)"
)
_UNIT = (
    r"(?:\s?(?:%|percent|percentage points?|million|billion|trillion|thousand|hundred|"
    r"years?|months?|weeks?|days?|hours?|minutes?|people|times|points|votes|miles|feet|"
    r"pounds|dollars|degrees|kilometers|km|games|seats|cents|acres|tons|members|jobs))*"
)
NUMBER = re.compile(
    r"(?:[$€£]\s?)?\b\d[\d,]*(?:\.\d+)?" + _UNIT + r"|\b" + _NUMBER_WORD + r"\b" + _UNIT, re.I
)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.|Feb\.|Aug\.|Sept\.|Oct\.|Nov\.|Dec\.)"
)
DATE = re.compile(
    _MONTH + r"(?:\s+\d{1,2}(?:st|nd|rd|th)?)?(?:,?\s+\d{4})?|\b(?:1[89]|20)\d{2}s?\b|"
    r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
_NAME_WORD = r"(?:(?:[A-Z]\.){2,}|[A-Z][a-zA-Z'’\-]+|[A-Z]\.)"  # U.S. | Hughes | J.
NAME = re.compile(
    _NAME_WORD
    + r"(?:\s+(?:(?:de|da|van|von|der|bin|al|el|la|le|du|del|di)\s+)?"
    + _NAME_WORD
    + r")*"
)
_NOT_NAMES = {
    "The", "A", "An", "He", "She", "It", "They", "We", "I", "In", "On", "At", "But", "And",
    "This", "That", "These", "Those", "His", "Her", "Their", "Its", "As", "After", "Before",
    "When", "While", "According", "Speaking", "Amid", "For", "If", "Since", "Despite", "With",
    "Mr.", "Mrs.", "Ms.", "Dr.", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday", "There", "What", "Who", "Last", "Next", "Many", "Some",
}  # fmt: skip


_TITLES = {
    "Mayor", "President", "Senator", "Sen.", "Rep.", "Gov.", "Governor", "Judge", "Justice",
    "Chairman", "Chairwoman", "Minister", "Prime", "Secretary", "General", "Gen.", "Pope",
    "King", "Queen", "Prince", "Princess", "Chancellor", "Coach", "Professor", "Prof.",
    "Supreme", "Leader", "Ayatollah", "Spokesperson", "Director", "Chief", "Former", "Acting",
}  # fmt: skip


def _is_title(word: str) -> bool:
    """A title or a leading abbreviation: "Mayor", "U.S." in "U.S. President Donald Trump"."""
    return word in _TITLES or bool(re.fullmatch(r"(?:[A-Z]\.){2,}", word))


def word_set(text: str) -> set[str]:
    """Lower-cased word forms of ``text`` (what "the question already says" compares)."""
    return {w.lower() for w in re.findall(r"[\w’']+", text)}


def candidate_spans(sentence: str, kind: AnswerType, question: str) -> list[str]:
    """Spans of ``sentence`` of the asked-for type that the question doesn't already say."""
    asked = word_set(question)
    if kind == "number":
        found = [m.group(0).strip() for m in NUMBER.finditer(sentence)]
    elif kind == "date":
        found = [m.group(0).strip() for m in DATE.finditer(sentence)]
    else:
        found = []
        for match in NAME.finditer(sentence):
            words = match.group(0).split()
            words = [re.sub(r"['’]s$", "", word) for word in words]  # possessive
            while words and (words[0] in _NOT_NAMES or (kind == "person" and _is_title(words[0]))):
                words = words[1:]
            if not words:
                continue
            if kind == "person" and len(words) < 2 and match.start() == 0:
                continue  # a lone capitalised first word is usually not a name
            found.append(" ".join(words))
    return [span for span in found if span and not word_set(span) <= asked]


# Question words shorter than this ("who", "the", "did") are too common to locate the answer by.
ANCHOR_MIN_CHARS = 4
# A name has 2-3 words besides initials ("Brian Hughes", "Maria de la Cruz"); longer spans are
# agencies and titles, and more words stop counting in a span's favour.
NAME_WORDS = (2, 3)
NOT_IN_SENTENCE = 10**6  # the distance of a span the sentence doesn't hold: last


def best_span(spans: list[str], question: str, sentence: str | None = None) -> str | None:
    """The span most likely to be the answer: words the question lacks, then a full name, then
    (given the sentence) the one nearest to the words the question asked about."""
    asked = word_set(question)
    anchors = [
        m.start() for m in re.finditer(r"[\w’']+", sentence or "")
        if len(m.group()) >= ANCHOR_MIN_CHARS and m.group().lower() in asked
    ]  # fmt: skip

    def distance(span: str) -> int:
        where = (sentence or "").find(span)
        if where < 0:
            return NOT_IN_SENTENCE
        return min((abs(where - a) for a in anchors), default=0)

    def rank(span: str) -> tuple[float, int, int, int, int]:
        words = span.split()
        new = sum(1 for w in words if w.lower().strip(".,") not in asked) / len(words)
        initials = sum(1 for w in words if re.fullmatch(r"[A-Z]\.", w))
        fewest, most = NAME_WORDS
        name_like = 1 if fewest <= len(words) - initials <= most else 0
        return (new, name_like, min(len(words) - initials, most), -initials, -distance(span))

    return max(spans, key=rank) if spans else None
