import itertools
from datetime import date

import pytest

from ingest.chunk import Chunker
from ingest.clean import clean_body, content_hash
from rag.models import load_tokenizer
from rag.settings import BUNDLED_EMBED_MODEL
from rag.types import Article
from tests.support import SAMPLE


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(BUNDLED_EMBED_MODEL)


def make_article(body: str, title: str = "A headline", published=None) -> Article:
    return Article(
        id="a1",
        title=title,
        body=body,
        published_date=published,
        content_hash=content_hash(title, body),
        version=content_hash(title + "v", body),
    )


def token_count(tokenizer, text: str) -> int:
    return len(tokenizer.encode(text).ids)  # with [CLS]/[SEP], as the model sees it


def test_seed_article_chunks_fit_and_point_into_the_body(tokenizer):
    raw = (SAMPLE / "iran-will-not-be-coerced-into-talks.txt").read_text(encoding="utf-8")
    headline, body = raw.split("\n", 1)
    article = make_article(clean_body(body), title=headline)
    chunks = Chunker(tokenizer, 256, 40).split(article)
    assert len(chunks) >= 2
    for chunk in chunks:
        assert token_count(tokenizer, chunk.embed_text) <= 256
        assert article.body[chunk.start : chunk.end] == chunk.text
        assert chunk.embed_text.startswith(headline)
        assert headline not in chunk.text  # the header is embedded, never shown
    covered = "".join(article.body[c.start : c.end] for c in chunks)
    for sentence in ("Rafael Grossi", "Brian Hughes", "drone carrier"):
        assert sentence in covered
    assert chunks[0].start == 0 and chunks[-1].end == len(article.body)


def test_neighbours_overlap_by_whole_sentences(tokenizer):
    sentences = [f"Sentence number {i} says the council met on day {i}." for i in range(60)]
    article = make_article(" ".join(sentences))
    chunks = Chunker(tokenizer, 128, 30).split(article)
    assert len(chunks) > 3
    for left, right in itertools.pairwise(chunks):
        assert right.start < left.end, "neighbours should share trailing sentences"
        assert right.start > left.start
        assert article.body[right.start : right.start + 8] == "Sentence"


def test_overlong_sentence_is_windowed_not_truncated(tokenizer):
    body = "word " * 1000 + "end."
    chunks = Chunker(tokenizer, 128, 20).split(make_article(body.strip()))
    assert all(token_count(tokenizer, c.embed_text) <= 128 for c in chunks)
    assert chunks[-1].text.endswith("end.")


def test_header_carries_date_or_says_unknown(tokenizer):
    dated = Chunker(tokenizer).split(make_article("Body text.", published=date(2024, 3, 5)))
    undated = Chunker(tokenizer).split(make_article("Body text."))
    assert dated[0].embed_text.startswith("A headline (2024-03-05)\n")
    assert undated[0].embed_text.startswith("A headline (date unknown)\n")


def test_absurd_title_cannot_squeeze_out_the_body(tokenizer):
    article = make_article("The body sentence is here.", title="Long title " * 300)
    chunks = Chunker(tokenizer, 256, 40).split(article)
    assert token_count(tokenizer, chunks[0].embed_text) <= 256
    assert chunks[0].embed_text.endswith("The body sentence is here.")


def test_chunk_ids_change_with_version(tokenizer):
    a = make_article("Some text.")
    b = a.model_copy(update={"version": "f" * 64})
    assert Chunker(tokenizer).split(a)[0].id != Chunker(tokenizer).split(b)[0].id
