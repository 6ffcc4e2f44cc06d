"""Candidate answer sentences of the retrieved passages, and what is known about each.

Every sentence of the first passages is a candidate; a cheap word-overlap pre-ranking keeps a
shortlist, and only the shortlist pays for the embedding model and the NER model. What this
module measures (``Candidate``'s fields) is what a scorer (``rag.answer.reader``) weighs:
hand-set weights or the trained reader.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.answer.base import AnswerContext
from rag.answer.cross_encoder import Reading
from rag.answer.entities import Entity, first_tier, fitting, mentions
from rag.answer.question import asking_part, candidate_spans, word_set
from rag.lexicon import terms
from rag.text import sentence_spans

MIN_SENTENCE_WORDS = 4  # shorter pieces are datelines, bylines and captions, never an answer
# Link promos inside article bodies ("More:Joe Biden walks ...", "WATCH:US jets ..."): a
# headline of another story, never an answer. Only at the start, with no space after the colon.
PROMO = re.compile(r"^[A-Z][\w'’ .-]{0,40}:(?=[^\s\d/])")
SHORTLIST = 12  # sentences scored with the embedding and NER models (16: +0.006, +40 ms)
# Pre-ranking before the models (word overlap only): the passage's share of the question's
# words counts this much beside the sentence's own.
SHORTLIST_CONTEXT = 0.3
# Words of a question that say nothing about its topic, left out of its asking sentence.
# Measured on the train set (5-fold CV, mean over six fold seeds, top-1 sentence accuracy of
# the reader): without the asking share 0.566; with it, idf-weighted as built, 0.591. The
# same share unweighted: over words less this list 0.597, less scikit-learn's 318 English
# stopwords (which drop "first", "last", "top") 0.583, over the lexicon's terms 0.582, over
# all words 0.583. Weighted, because unweighted a word as common as "world" matched the one-
# article sample library's only Trump sentence to "Who won the 2022 football World Cup?"
# enough to answer it (0.247 against the refusal threshold 0.236; weighted 0.22).
FUNCTION_WORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "to", "for", "and", "or", "is", "was", "were", "be",
    "it", "its", "this", "that", "with", "by", "at", "from", "as", "what", "which", "who",
    "whom", "whose", "when", "where", "why", "how", "do", "does", "did", "has", "have", "had",
})  # fmt: skip
# Retrieval rank as a prior: passage n counts 1 / (1 + RANK_DECAY * (n - 1)) (n=5: 0.5).
RANK_DECAY = 0.25
# Articles put the news first: a sentence's place in its article counts in units of this many
# characters (a short paragraph), on a log scale.
POSITION_UNIT = 500


@dataclass
class Candidate:
    passage: int  # 1-based
    start: int  # offsets in the passage text
    end: int
    text: str
    overlap: float = 0.0  # share of the question's (idf-weighted) words in the sentence
    window: float = 0.0  # ... in it and the sentences either side (the answer often follows
    # the sentence that echoes the question)
    novelty: float = 0.0  # share of the sentence's words the question doesn't have
    # ... of the content words of the question's asking sentence alone ("X happened. Which
    # team won the final?": team, won, final). A preamble retells the story, which many
    # sentences do; the asking sentence says what the answer's sentence is about.
    asking: float = 0.0
    context: float = 0.0  # ... in its passage with the title
    title: float = 0.0  # ... in the article's title
    rank: float = 1.0  # retrieval rank prior
    freshness: float = 1.0  # recency prior
    cosine: float = 0.0  # embedding cosine with the question
    typed: bool = False  # the answer-type regex finds a span (a number for "how many")
    named: list[Entity] = field(default_factory=list)  # its named entities (NER)
    # Its noun phrases, for a question whose answer has no known entity label ("What sport
    # ...?": chess); empty otherwise.
    phrases: list[Entity] = field(default_factory=list)
    fitting: list[tuple[str, str]] = field(default_factory=list)  # (span, label) that fit
    new_entities: int = 0  # named entities the question doesn't already name
    position: int = 0  # characters before the sentence in its article
    same_article: int = 1  # retrieved passages of this sentence's article
    reading: float = 0.0  # the cross-encoder's logit: it read the question with the sentence
    # What else that reading says: its span head's view of each span of the sentence (None
    # when not read).
    encoder_reading: Reading | None = None
    # ... less the best reading among the shortlist (<= 0): how it reads beside the others,
    # whatever the question's style does to the logits' level
    reading_margin: float = 0.0
    score: float = 0.0  # the scorer's; the trained reader's is a probability

    def first_tier(self, labels: frozenset[str] | None) -> list[str]:
        """Fitting spans of the labels a question asks for first (a person for "who")."""
        return first_tier(self.fitting, labels) if labels is not None else []


def gather(context: AnswerContext, max_passages: int) -> list[Candidate]:
    """All candidate sentences of the first ``max_passages`` passages, with word features."""
    asked = set(terms(context.retrieval_query))
    asking_words = word_set(asking_part(context.retrieval_query)) - FUNCTION_WORDS
    asking = set(terms(" ".join(sorted(asking_words))))

    def sharer(words: set[str]) -> Callable[[set[str]], float]:
        """The idf-weighted share of ``words`` among a sentence's terms."""
        # fsum: a set's order changes with Python's string hashing, and a plain sum's last
        # bits with it; that would reorder ties between processes (and change a retrained
        # model).
        total = math.fsum(context.weight(t) for t in words) or 1.0
        return lambda found: math.fsum(context.weight(t) for t in words & found) / total

    share, asking_share = sharer(asked), sharer(asking)

    passages = context.passages[:max_passages]
    per_article: dict[str, int] = {}
    for passage in passages:
        per_article[passage.article_id] = per_article.get(passage.article_id, 0) + 1
    candidates: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for number, passage in enumerate(passages, 1):
        passage_share = share(set(terms(f"{passage.title}\n{passage.text}")))
        title_share = share(set(terms(passage.title)))
        rank = 1.0 / (1 + RANK_DECAY * (number - 1))
        freshness = context.freshness(passage)
        spans = sentence_spans(passage.text)
        sentence_terms = [set(terms(passage.text[start:end])) for start, end in spans]
        for index, (start, end) in enumerate(spans):
            key = (passage.article_id, passage.start + start)
            text = passage.text[start:end]
            if key in seen or len(text.split()) < MIN_SENTENCE_WORDS or PROMO.match(text):
                continue
            seen.add(key)
            own = sentence_terms[index]
            if own and own <= asked:
                continue  # says nothing the question doesn't
            around = set().union(*sentence_terms[max(index - 1, 0) : index + 2])
            candidates.append(
                Candidate(
                    number, start, end, text,
                    overlap=share(own), window=share(around),
                    asking=asking_share(own),
                    novelty=len(own - asked) / max(len(own), 1),
                    context=passage_share, title=title_share,
                    rank=rank, freshness=freshness, position=passage.start + start,
                    same_article=per_article[passage.article_id],
                )
            )  # fmt: skip
    return candidates


def shortlist(context: AnswerContext, candidates: list[Candidate], size: int = SHORTLIST):
    """The ``size`` best candidates by word overlap, with the model features filled in."""
    candidates = sorted(
        candidates,
        key=lambda c: -(c.overlap + SHORTLIST_CONTEXT * c.context) * c.rank * c.freshness,
    )[:size]
    if not candidates:
        return []
    cosines = context.similarity(context.question, [c.text for c in candidates])
    asked = word_set(context.question)
    # One NER pass over the shortlist: one sentence at a time took 49 ms of an ask, batched
    # 32 ms, the entities the same (2,843 dev sentences compared). Noun phrases (the parser)
    # only where no entity label is known to fit the answer.
    found = mentions([c.text for c in candidates], phrases=context.entity_labels is None)
    for candidate, cosine, said in zip(candidates, cosines, found, strict=True):
        candidate.cosine = cosine
        candidate.typed = bool(candidate_spans(candidate.text, context.kind, context.question))
        source = context.passages[candidate.passage - 1].source
        candidate.named, candidate.phrases = said.entities, said.phrases
        candidate.new_entities = sum(1 for e in candidate.named if not word_set(e.text) <= asked)
        candidate.fitting = fitting(candidate.named, asked, context.entity_labels, source)
    return candidates


def position_feature(position: int) -> float:
    return math.log1p(position / POSITION_UNIT)
