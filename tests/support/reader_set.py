"""A small train and dev set for retraining the answer reader in tests (fictional news).

Each article holds one answer sentence among sentences that share the question's words or its
answer type (another person, another number), so a reader has something to learn. Written as
the shared data's format: a folder with ``questions.jsonl`` and ``corpus.jsonl``.
"""

from __future__ import annotations

import json
from pathlib import Path

TOWNS = [
    "Ashford", "Brackenridge", "Coldwater", "Dunmore", "Eastvale", "Fairhaven", "Glenrock",
    "Hollowell", "Ironbridge", "Juniper Falls", "Kingsmere", "Larkspur", "Marlow Bay",
    "Northcote", "Oakhurst", "Pinecrest",
]  # fmt: skip
PEOPLE = [
    "Marta Keller", "Joseph Adeyemi", "Ines Carvalho", "Tomas Lindgren", "Aisha Rahman",
    "Victor Okafor", "Hannah Brandt", "Luis Ferreira", "Nadia Petrova", "Samuel Whitcombe",
    "Grace Nakamura", "Omar Haddad", "Clara Jensen", "Daniel Mbeki", "Rosa Alvarez",
    "Peter Novak", "Yara Said",
]  # fmt: skip

TEMPLATES = [
    (
        "{town} council elects a new mayor",
        "The {town} town council met on Tuesday evening in the old town hall.\n"
        "Council members elected {a} as the new mayor of {town} by a vote of {n} to 3.\n"
        "{b}, the outgoing mayor, did not attend the meeting and sent a statement instead.\n"
        "The council will meet again next month to discuss the budget for roads.",
        "Who was elected mayor of {town}?",
        "{a}",
    ),
    (
        "New bridge opens in {town}",
        "A new bridge over the river opened in {town} on Friday after two years of work.\n"
        "The bridge cost {n} million dollars to build, the regional transport office said.\n"
        "{b}, who chairs the transport committee, said traffic would ease by spring.\n"
        "About 12,000 cars a day are expected to cross it.",
        "How much did the new bridge in {town} cost?",
        "{n} million dollars",
    ),
    (
        "{town} festival draws a record crowd",
        "The {town} summer festival ended on Sunday after four days of music and food.\n"
        "Organisers said a record {n},000 people attended this year's festival in {town}.\n"
        "The headline act was the singer {a}, who played for two hours on the main stage.\n"
        "Next year's festival will add a fifth day, organiser {b} said.",
        "How many people attended the {town} festival?",
        "{n},000 people",
    ),
    (
        "{town} factory names a new chief executive",
        "The bicycle factory in {town} has employed workers for more than 60 years.\n"
        "The factory's board named {a} as its new chief executive on Monday.\n"
        "{b}, who led the factory for a decade, will retire at the end of the year.\n"
        "The factory makes about {n},000 bicycles a year.",
        "Who was named chief executive of the {town} bicycle factory?",
        "{a}",
    ),
]


def _articles_and_questions(first: int, count: int, prefix: str, year: int):
    articles, questions = [], []
    for index in range(first, first + count):
        title, body, question, answer = TEMPLATES[index % len(TEMPLATES)]
        town = TOWNS[index // len(TEMPLATES) % len(TOWNS)]  # each town: one article per template
        values = {
            "town": town,
            "a": PEOPLE[index % len(PEOPLE)],
            "b": PEOPLE[(index + 7) % len(PEOPLE)],
            "n": str(11 + 3 * index),
        }
        article_id = f"{prefix}-art-{index:02d}"
        day = 1 + index % 27
        articles.append(
            {
                "id": article_id,
                "title": title.format(**values),
                "source": "Valley Herald",
                "published_date": f"{year}-05-{day:02d}",
                "body": body.format(**values),
            }
        )
        questions.append(
            {
                "id": f"{prefix}-{index:02d}",
                "question": question.format(**values),
                "answer": answer.format(**values),
                "answerable": True,
                "gold_article_ids": [article_id],
                "question_date": f"{year}-05-{day + 1:02d}",
            }
        )
    return articles, questions


UNANSWERABLE = [
    "Who won the chess championship in Quarry Hill?",
    "How many solar panels were installed at the Westbrook airport?",
    "Which orchestra toured Saltmarsh last winter?",
]


def write_reader_sets(
    root: Path, train_count: int = 32, dev_count: int = 12, year: int = 2024
) -> tuple[Path, Path]:
    """``root/train`` and ``root/dev`` folders; their articles and questions differ. Dated in
    May of ``year`` (cross-encoder training reads no article of 2024 or later)."""
    train_articles, train_questions = _articles_and_questions(0, train_count, "train", year)
    dev_articles, dev_questions = _articles_and_questions(train_count, dev_count, "dev", year)
    dev_questions += [
        {"id": f"dev-none-{n}", "question": question, "answer": "<refusal>",
         "answerable": False, "question_date": f"{year}-05-28"}
        for n, question in enumerate(UNANSWERABLE)
    ]  # fmt: skip
    folders = []
    for name, articles, questions in (
        ("train", train_articles, train_questions),
        ("dev", dev_articles, dev_questions),
    ):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for file, records in (("corpus.jsonl", articles), ("questions.jsonl", questions)):
            lines = "".join(json.dumps(r) + "\n" for r in records)
            (folder / file).write_text(lines, encoding="utf-8")
        folders.append(folder)
    return folders[0], folders[1]
