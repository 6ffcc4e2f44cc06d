"""Questions a person might ask of a library, from its newest headlines.

The empty chat offers a few. A headline quoted whole ("What do the articles say about
'Shohei Ohtani free agency hysteria should be reckoning for MLB ...'?") reads as a machine's
prompt and gets cut off; a person asks about the story's subject: "What's the latest on
Shohei Ohtani?". The subject is the headline's first named entity of a kind people ask about,
found by the NER model the answerer uses, or, when the headline names none ("Harbour bridge
reopens after two-year repair"), its lead sentence's; an article naming none offers no question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.entities import Entity, named_entities
from rag.text import first_sentence
from rag.types import Article

# The question for a headline's subject, by its NER label. Numbers, dates and groups
# ("Democrats", NORP) are no subject to ask about on their own.
QUESTION_FOR = {
    "PERSON": "What's the latest on {}?",
    "ORG": "What's the latest on {}?",
    "PRODUCT": "What's the latest on {}?",
    "EVENT": "What's the latest on {}?",
    "WORK_OF_ART": "What's the latest on {}?",
    "LAW": "What's the latest on {}?",
    "GPE": "What's happening in {}?",
    "LOC": "What's happening in {}?",
    "FAC": "What's happening at {}?",
}
# "Shohei Ohtani's record-breaking ...", "Brenda Lee's 'Rockin ...": the owner is the subject.
POSSESSIVE = re.compile(r"['’](?:s\b|\s|$).*")
LEAD_CHARACTERS = 600  # enough for a lead sentence; not the whole body through the splitter
# Shorter subjects are often a mis-tagged fragment ("AP", "U"); longer ones a clause.
SUBJECT_CHARACTERS = (3, 40)


def suggested_questions(articles: Sequence[Article], count: int) -> list[str]:
    """Up to ``count`` questions about different subjects, in the articles' order."""
    headlines = [a.title.strip() for a in articles]
    leads = [first_sentence(a.body[:LEAD_CHARACTERS]) for a in articles]
    questions: list[str] = []
    for in_headline, in_lead in zip(named_entities(headlines), named_entities(leads), strict=True):
        asked = {q.casefold() for q in questions}
        fresh = [q for q in _questions(in_headline + in_lead) if q.casefold() not in asked]
        questions.extend(fresh[:1])  # one question an article: its first new subject
        if len(questions) == count:
            break
    return questions


def _questions(found: list[Entity]) -> list[str]:
    """The questions about the entities that can be a subject, in order."""
    shortest, longest = SUBJECT_CHARACTERS
    questions = []
    for entity in found:
        subject = POSSESSIVE.sub("", entity.text).strip(" '\"‘’“”.,:;")
        template = QUESTION_FOR.get(entity.label)
        if template and shortest <= len(subject) <= longest:
            questions.append(template.format(subject))
    return questions
