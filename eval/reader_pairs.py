"""Training pairs for the cross-encoder reader: (question, candidate sentence, holds the answer?).

Three kinds, all from ``../shared`` (never the dev questions), all deterministic for a seed:

- **quiz**: the train quiz questions. Candidates are the sentences of their gold articles and
  the sentences of other articles of the weeks before the question's date that BM25 ranks
  highest for it (what retrieval would show); a candidate is positive when it holds the gold
  answer (``contains_answer``, the eval's answer test). An unanswerable question gives only
  negatives.
- **held-out**: each answerable quiz question again with its gold articles left out, as an
  unanswerable question over the rest (its answer is then usually absent): what a refusal must
  learn (the quiz sets have only 24 unanswerable questions).
- **cloze**: self-supervised, from the train and distractor corpora. A lead sentence's named
  entity becomes a wh-phrase of its type ("Florida passed a law ..." -> "Which state passed a
  law ...?"), a few words are dropped; positives are the sentence and sentences of *other*
  articles of the same days that hold the entity and share the question's words; negatives
  share the words but not the entity (so the model learns that "which state" needs a state).

Articles dated 2024 or later are never read: the hidden test set's years.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import rag
from eval.dataset import GoldQuestion, load_questions
from eval.metrics import contains_answer
from eval.progress import Progress

# The hidden test set's questions are of 2024 and later: no article of those years is read.
FIRST_HIDDEN_DATE = "2024-01-01"
MIN_WORDS, MAX_WORDS = 6, 60  # a candidate sentence's length (shorter: datelines, captions)
RECENT_DAYS = 14  # a quiz question's negatives come from articles of the two weeks before it
CLOZE_DAYS = 3  # a cloze positive from another article must be this close in date
QUIZ_NEGATIVES = 10  # BM25's best non-answer sentences of other articles, per quiz question
GOLD_NEGATIVES = 6  # ... and of its gold articles (the same story, the answer not in them)
MAX_POSITIVES = 4
CLOZE_LEAD_SENTENCES = 8  # cloze questions come from an article's first sentences: the news
CLOZE_PER_ARTICLE = 1
CLOZE_NEGATIVES = 6
CLOZE_OTHER_POSITIVES = 2
CLOZE_DROPOUT = 0.15  # share of a cloze question's words dropped: it must not be the sentence
MIN_SHARED_WORDS = 2  # a cross-article positive shares this many content words with the question
BM25_DEPTH = 60

# How each entity label is asked for. Labels absent here (ordinals, times, languages) make poor
# questions.
_US_STATES = frozenset(
    re.split(
        r",\s*",
        "Alabama, Alaska, Arizona, Arkansas, California, Colorado, Connecticut, Delaware, Florida,"
        " Georgia, Hawaii, Idaho, Illinois, Indiana, Iowa, Kansas, Kentucky, Louisiana, Maine,"
        " Maryland, Massachusetts, Michigan, Minnesota, Mississippi, Missouri, Montana, Nebraska,"
        " Nevada, New Hampshire, New Jersey, New Mexico, New York, North Carolina, North Dakota,"
        " Ohio, Oklahoma, Oregon, Pennsylvania, Rhode Island, South Carolina, South Dakota,"
        " Tennessee, Texas, Utah, Vermont, Virginia, Washington, West Virginia, Wisconsin, Wyoming",
    )
)
_WH = {
    "PERSON": "who",
    "ORG": "which organization",
    "NORP": "which group",
    "GPE": "which place",
    "LOC": "where",
    "FAC": "which place",
    "DATE": "when",
    "CARDINAL": "how many",
    "MONEY": "how much money",
    "PERCENT": "what percentage",
    "QUANTITY": "how much",
    "EVENT": "which event",
    "WORK_OF_ART": "what title",
    "PRODUCT": "which product",
    "LAW": "which law",
}
_QUOTES = re.compile(r"[\"“”]")
_WORD = re.compile(r"[A-Za-z][\w’'-]+")
_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an the of in on to for and or is was were be been it its this that with by at from as "
        "he she they his her their has have had not but will would said says say who what which "
        "when where how why after before over into about than more also one two new",
    )
)


@dataclass(frozen=True)
class Pair:
    question: str
    passage: str  # rag.reader_passage(sentence, title)
    label: int  # 1: the sentence holds the answer
    group: str  # the question it belongs to (pairs of one question are evaluated together)
    origin: str  # quiz | held-out | cloze
    # What answers the question in a positive pair's sentence (the gold answer, or the cloze
    # question's entity): what the span head learns to find. "" in a negative pair.
    answer: str = ""


@dataclass(frozen=True)
class Sentence:
    text: str
    article: str
    title: str
    date: str  # YYYY-MM-DD, "" when unknown
    lead: bool  # among the article's first CLOZE_LEAD_SENTENCES


def read_articles(paths: Iterable[Path], before: str = FIRST_HIDDEN_DATE) -> list[dict]:
    """Articles of ``paths`` (corpus JSONL) dated before ``before`` (default: none of 2024 or
    later). Undated articles are left out too: they could be of any year."""
    articles = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                article = json.loads(line)
                date = article.get("published_date") or ""
                if not date or date >= before:
                    continue
                articles.append(article)
    return articles


def split_sentences(articles: Sequence[dict]) -> list[Sentence]:
    found = []
    for article in articles:
        body = article.get("body") or ""
        kept = 0
        for start, end in rag.sentence_spans(body):
            text = body[start:end]
            if not MIN_WORDS <= len(text.split()) <= MAX_WORDS:
                continue
            found.append(
                Sentence(
                    text, article["id"], article.get("title") or "",
                    article.get("published_date") or "", kept < CLOZE_LEAD_SENTENCES,
                )
            )  # fmt: skip
            kept += 1
    return found


class SentenceIndex:
    """BM25 over sentences (bm25s, with the lexicon's stemmed terms)."""

    def __init__(self, sentences: Sequence[Sentence]):
        import bm25s

        self.sentences = list(sentences)
        self._tokenize = rag.tokenize_terms
        self._bm25 = bm25s.BM25()
        self._bm25.index(self._tokenize([s.text for s in self.sentences]), show_progress=False)

    def search(self, queries: Sequence[str], k: int = BM25_DEPTH) -> list[list[int]]:
        import numpy as np

        tokens = [t or ["_"] for t in self._tokenize(list(queries))]
        k = min(k, len(self.sentences))
        ids, scores = self._bm25.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [
            [int(i) for i, s in zip(row, score_row, strict=True) if s > 0]
            for row, score_row in zip(np.asarray(ids), np.asarray(scores), strict=True)
        ]


def _days_between(a: str, b: str) -> int | None:
    try:
        return (dt.date.fromisoformat(a) - dt.date.fromisoformat(b)).days
    except ValueError:
        return None


# ----------------------------------------------------------------------------- quiz pairs
def quiz_pairs(
    questions: Sequence[GoldQuestion], index: SentenceIndex, rng: random.Random
) -> list[Pair]:
    pairs: list[Pair] = []
    hits = index.search([q.question for q in questions])
    by_article: dict[str, list[int]] = {}
    for number, sentence in enumerate(index.sentences):
        by_article.setdefault(sentence.article, []).append(number)
    for gold, ranked in zip(questions, hits, strict=True):

        def recent(number: int, gold=gold) -> bool:
            age = _days_between(gold.question_date.isoformat(), index.sentences[number].date)
            return age is not None and 0 <= age <= RECENT_DAYS

        def pair(number: int, origin: str, gold=gold) -> Pair:
            sentence = index.sentences[number]
            holds = gold.answerable and contains_answer(sentence.text, gold.answer)
            return Pair(
                gold.question, rag.reader_passage(sentence.text, sentence.title), int(holds),
                f"{origin}:{gold.id}", origin, gold.answer if holds else "",
            )  # fmt: skip

        golds = set(gold.gold_article_ids)
        in_gold = [n for a in gold.gold_article_ids for n in by_article.get(a, [])]
        others = [n for n in ranked if index.sentences[n].article not in golds and recent(n)]
        in_gold_pairs = [(n, pair(n, "quiz")) for n in in_gold]
        positives = [p for _, p in in_gold_pairs if p.label][:MAX_POSITIVES]
        gold_rank = {n: r for r, n in enumerate(ranked)}  # the same story's closest sentences
        gold_negatives = [
            p
            for n, p in sorted(in_gold_pairs, key=lambda item: gold_rank.get(item[0], 10**6))
            if not p.label
        ][:GOLD_NEGATIVES]
        other_pairs = [pair(n, "quiz") for n in others]
        other_negatives = [p for p in other_pairs if not p.label][:QUIZ_NEGATIVES]
        other_positives = [p for p in other_pairs if p.label][: max(0, MAX_POSITIVES - 1)]
        pairs += positives + other_positives + gold_negatives + other_negatives
        if gold.answerable:  # the same question with its answer's articles held out
            held_out = [pair(n, "held-out") for n in others[:QUIZ_NEGATIVES]]
            pairs += held_out
    return pairs


# ----------------------------------------------------------------------------- cloze pairs
def cloze_question(sentence: str, start: int, end: int, label: str, rng: random.Random) -> str:
    """``sentence`` with its entity at [start, end) asked for, some other words dropped."""
    entity = sentence[start:end]
    wh = _WH[label]
    if label == "GPE" and entity.removeprefix("the ") in _US_STATES:
        wh = "which state"
    before = sentence[:start].strip()
    after = sentence[end:].strip().rstrip(".!?\"”’'").strip()
    if before.endswith((" the", " The")) or before in {"the", "The"}:
        before = before[: -len("the")].strip()
    words = [*before.split(), "\0", *after.split()]
    kept = [w for w in words if w == "\0" or rng.random() >= CLOZE_DROPOUT]
    text = " ".join(kept).replace("\0", wh)
    text = re.sub(r"\s+([,;:])", r"\1", text).strip(" ,;:")
    return text[:1].upper() + text[1:] + "?"


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOP


def cloze_pairs(
    index: SentenceIndex,
    limit: int,
    rng: random.Random,
    progress: Progress,
) -> list[Pair]:
    """Up to ``limit`` self-supervised questions with their positives and negatives."""
    # Quotes are opinion, rarely what a quiz asks: their entities make poor questions.
    leads = [n for n, s in enumerate(index.sentences) if s.lead and not _QUOTES.search(s.text)]
    rng.shuffle(leads)
    per_article: dict[str, int] = {}
    chosen: list[int] = []
    for number in leads:
        article = index.sentences[number].article
        if per_article.get(article, 0) < CLOZE_PER_ARTICLE:
            per_article[article] = per_article.get(article, 0) + 1
            chosen.append(number)
    questions: list[tuple[int, str, str]] = []  # sentence, question, entity
    texts = [index.sentences[n].text for n in chosen]
    for number, text, found in zip(chosen, texts, rag.named_entities(texts), strict=True):
        usable = [
            e for e in found
            if e.label in _WH and 2 <= len(e.text) <= 40
            and text.count(e.text) == 1 and len(e.text.split()) <= 5
        ]  # fmt: skip
        if not usable:
            continue
        entity = usable[rng.randrange(len(usable))]
        question = cloze_question(text, entity.start, entity.end, entity.label, rng)
        if len(question.split()) >= 5:
            questions.append((number, question, entity.text))
        if len(questions) >= limit:
            break
        if len(questions) % 1000 == 0 and questions:
            progress(f"  cloze questions: {len(questions)}")
    hits = index.search([q for _, q, _ in questions])
    pairs: list[Pair] = []
    for (number, question, entity), ranked in zip(questions, hits, strict=True):
        source = index.sentences[number]
        group = f"cloze:{source.article}:{number}"
        entity_words = _content_words(entity)
        asked = _content_words(question) - entity_words
        last_word = entity.split()[-1].lower()

        def make(n: int, label: int, group=group, question=question, entity=entity) -> Pair:
            s = index.sentences[n]
            passage = rag.reader_passage(s.text, s.title)
            return Pair(question, passage, label, group, "cloze", entity if label else "")

        found = [make(number, 1)]
        others_positive, negatives = [], []
        for n in ranked:
            if n == number:
                continue
            candidate = index.sentences[n]
            lowered = candidate.text.lower()
            if entity in candidate.text:
                days = _days_between(candidate.date, source.date)
                shared = len(_content_words(candidate.text) & asked)
                if (
                    candidate.article != source.article
                    and days is not None and abs(days) <= CLOZE_DAYS
                    and shared >= MIN_SHARED_WORDS
                ):  # fmt: skip
                    others_positive.append(n)
            elif last_word not in lowered and entity.lower() not in lowered:
                negatives.append(n)
        found += [make(n, 1) for n in others_positive[:CLOZE_OTHER_POSITIVES]]
        found += [make(n, 0) for n in negatives[:CLOZE_NEGATIVES]]
        pairs += found
    return pairs


# ----------------------------------------------------------------------------- all of it
@dataclass(frozen=True)
class PairSources:
    quiz: Sequence[Path]  # folders with questions.jsonl and corpus.jsonl
    corpora: Sequence[Path]  # further corpus JSONL files for cloze questions
    cloze_questions: int
    before: str = FIRST_HIDDEN_DATE  # articles of this date or later are never read


def build_pairs(sources: PairSources, seed: int, progress: Progress = print) -> list[Pair]:
    """Every training pair, in a fixed order for ``seed``."""
    rng = random.Random(seed)
    pairs: list[Pair] = []
    for folder in sources.quiz:
        progress(f"quiz questions of {folder.name}")
        questions = load_questions(folder / "questions.jsonl")
        articles = read_articles([folder / "corpus.jsonl"], sources.before)
        if not articles:
            continue
        pairs += quiz_pairs(questions, SentenceIndex(split_sentences(articles)), rng)
    if sources.cloze_questions and sources.corpora:
        progress(f"cloze questions from {', '.join(p.name for p in sources.corpora)}")
        articles = read_articles(sources.corpora, sources.before)
        if not articles:
            return pairs
        index = SentenceIndex(split_sentences(articles))
        pairs += cloze_pairs(index, sources.cloze_questions, rng, progress)
    return pairs
