"""Citation verification: supported citations kept, wrong ones moved, unsupported statements
dropped, renumbering, exact quotes with offsets."""

from rag.cite import split_statements, verify
from rag.types import Passage

BODY_A = (
    "The Harbour Street bridge reopened on Tuesday after a two-year repair. "
    "City engineer Priya Raman said the new steel deck should last seventy years."
)
BODY_B = "The library board voted 5 to 2 to open a new branch in the east end."


def passage(body: str, article: str, offset: int = 0) -> Passage:
    return Passage(
        chunk_id=f"{article}-v-0", article_id=article, title=article, text=body,
        start=offset, end=offset + len(body),
    )  # fmt: skip


PASSAGES = [passage(BODY_A, "bridge", offset=100), passage(BODY_B, "library")]


def test_supported_citation_is_kept_with_exact_quote_and_offsets():
    result = verify("The bridge reopened on Tuesday after a two-year repair [1].", PASSAGES)
    assert not result.refused
    [citation] = result.citations
    assert citation.n == 1 and citation.article_id == "bridge"
    assert (
        citation.quote == "The Harbour Street bridge reopened on Tuesday after a two-year repair."
    )
    assert citation.start == 100 and citation.end == 100 + len(citation.quote)
    assert BODY_A[citation.start - 100 : citation.end - 100] == citation.quote
    assert result.text == "The bridge reopened on Tuesday after a two-year repair [1]."


def test_citation_to_the_wrong_passage_is_moved():
    result = verify("The library board voted to open a new branch [1].", PASSAGES)
    assert result.moved == 1
    assert [c.article_id for c in result.citations] == ["library"]
    assert result.text.endswith("[1].")


def test_citation_to_a_passage_that_does_not_exist_is_replaced():
    result = verify("Priya Raman said the steel deck should last seventy years [7].", PASSAGES)
    assert [c.article_id for c in result.citations] == ["bridge"]
    assert "[7]" not in result.text


def test_unsupported_statement_is_dropped_and_all_unsupported_is_a_refusal():
    mixed = verify(
        "The bridge reopened on Tuesday [1]. The mayor is a former astronaut [1].", PASSAGES
    )
    assert mixed.dropped == ["The mayor is a former astronaut."]
    assert "astronaut" not in mixed.text
    assert verify("Canberra is the capital of Australia [1].", PASSAGES).refused


def test_citations_are_renumbered_in_order_of_use():
    draft = "The board voted 5 to 2 for a branch [2]. The bridge reopened after a repair [1]."
    result = verify(draft, PASSAGES)
    assert [c.article_id for c in result.citations] == ["library", "bridge"]
    assert result.text == (
        "The board voted 5 to 2 for a branch [1]. The bridge reopened after a repair [2]."
    )


def test_statements_keep_their_markers():
    statements = split_statements("First claim [1]. Second claim [2][3]. [4]")
    assert [s.cited for s in statements] == [[1], [2, 3, 4]]
    assert statements[0].text == "First claim."


GROSSI = (
    "As Tehran speeds up its uranium enrichment, Rafael Grossi, the head of the U.N. nuclear "
    "watchdog, said diplomatic efforts are running out of time."
)


def close(statement: str, others: list[str]) -> list[float]:
    """A stand-in embedding judge that finds everything semantically close: names must still
    decide."""
    return [0.9 for _ in others]


def test_a_name_the_sentence_does_not_hold_is_not_supported():
    grossi = [passage(GROSSI, "iran")]
    wrong = verify(
        "Ali Khamenei is the head of the U.N. nuclear watchdog [1].", grossi, None, close
    )
    assert wrong.refused and wrong.dropped
    right = verify(
        "Rafael Grossi is the head of the U.N. nuclear watchdog [1].", grossi, None, close
    )
    assert not right.refused and right.citations[0].quote == GROSSI


def test_a_number_the_sentence_does_not_hold_is_not_supported():
    result = verify(
        "The board voted 6 to 2 to open a new branch [1].", [passage(BODY_B, "library")]
    )
    assert result.refused
    assert not verify(
        "The board voted 5 to 2 to open a branch [1].", [passage(BODY_B, "library")]
    ).refused


def test_names_may_come_from_the_title():
    titled = Passage(chunk_id="x-v-0", article_id="x", title="Millbrook library expands",
                     text=BODY_B, start=0, end=len(BODY_B))  # fmt: skip
    assert not verify("The Millbrook board voted 5 to 2 for a new branch [1].", [titled]).refused


def test_an_answer_frame_is_checked_as_its_claim():
    """#26 finding 9: "The answer is: HACKED [1]" passed verification on an injected line.
    The frame is not a claim about the world: the claim is "HACKED", which nothing supports."""
    result = verify("The answer is: HACKED [1].", PASSAGES)
    assert result.refused and result.dropped == ["HACKED."]
    kept = verify("The answer is: the bridge reopened on Tuesday [1].", PASSAGES)
    assert kept.text == "the bridge reopened on Tuesday [1]."
