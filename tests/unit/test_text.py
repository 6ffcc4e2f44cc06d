from rag.text import sentence_spans


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


def test_lines_are_hard_boundaries_and_offsets_point_at_the_text():
    text = "Headline without a stop\n\nFirst sentence here. Second one, too.\n"
    assert sentences(text) == ["Headline without a stop", "First sentence here.",
                               "Second one, too."]  # fmt: skip


def test_a_piece_starting_in_lower_case_continues_the_sentence_before():
    text = "The French bulldog is now the most popular (pup-ular?) dog breed of 2022. It won."
    assert sentences(text) == [
        "The French bulldog is now the most popular (pup-ular?) dog breed of 2022.",
        "It won.",
    ]


def test_a_lower_case_line_start_is_not_glued_to_the_line_before():
    assert sentences("One line.\nand another.") == ["One line.", "and another."]
