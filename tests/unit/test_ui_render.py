"""The UI's markup: article text renders as exactly its text, never as markup or links."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from ui import render

NASTY = (
    'Quill <img src=x onerror="window.__pwned=1"> said <script>window.__pwned=1</script> '
    "[the notice](javascript:window.__pwned=1) costs $5 and $10, *not* __bold__ `code` "
    '![pic](http://x/p.png) <a href="javascript:alert(1)">x</a> & more # not a heading\n1. not a list'
)


def rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def visible_text(html: str) -> str:
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


def test_markdown_text_renders_as_the_same_text_and_no_markup():
    html = rendered(render.markdown_text(NASTY))
    assert re.findall(r"<(\w+)", html) == ["p"]  # one paragraph: no img, script, a, em, code
    assert " ".join(visible_text(html).split()) == " ".join(NASTY.split())


def test_html_text_escapes_markup_and_quotes():
    assert render.html_text('<b a="1">') == "&lt;b a=&quot;1&quot;&gt;"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://news.example/a", True),
        ("http://news.example/a?b=1", True),
        ("javascript:alert(1)", False),
        (" JaVaScRiPt:alert(1)", False),
        ("data:text/html,<script>", False),
        ("//news.example/a", False),
        (None, False),
    ],
)
def test_only_web_links_become_links(url, kept):
    assert (render.safe_url(url) is not None) == kept


def answer(**extra):
    base = {
        "question": "Who is the ferry captain?",
        "text": "The captain is Marta Quill <img src=x> [1]. Service resumes Monday [2] [7].",
        "short_answer": "Marta *Quill*",
        "refused": False,
        "citations": [
            {
                "n": 1,
                "article_id": "a1",
                "title": "Ferry <script>x</script> news",
                "source": "Harbor Gazette",
                "url": "javascript:alert(1)",
                "published_date": None,
                "quote": "The captain is Marta Quill <img src=x>.",
                "start": 10,
                "end": 49,
                "passage": "Opening. The captain is Marta Quill <img src=x>. After.",
                "passage_start": 1,
            },
            {
                "n": 2,
                "article_id": "a1",
                "title": "Ferry news",
                "source": None,
                "url": "https://gazette.example/ferry",
                "published_date": "2024-05-01",
                "quote": "Service resumes Monday.",
                "start": 60,
                "end": 83,
                "passage": "Service resumes Monday.",
                "passage_start": 60,
            },
        ],
        "closest": [],
    }
    base.update(extra)
    return base


def test_answer_message_links_known_citations_only():
    message = render.answer_message(answer(), turn=3)
    links = re.findall(r'<a class="cite" href="#([\w-]+)"[^>]*>\[(\d)\]</a>', message)
    assert links == [("source-3-1", "1"), ("source-3-1", "1")]  # one article: one number
    assert "[7]" not in message  # a marker with no citation behind it is not shown
    html = rendered(message)
    assert "<img" not in html and "&lt;img src=x&gt;" in html
    assert "<strong>Marta *Quill*</strong>" in html  # short answer bold, its own * literal


def test_citations_are_numbered_per_article():
    data = answer()
    data["citations"][1]["article_id"] = "a2"
    data["text"] = "Quill [1][2]. Monday [2] and again [1][1]."
    message = render.answer_message(data, turn=0)
    shown = re.findall(r">\[(\d)\]</a>", message)
    assert shown == ["1", "2", "2", "1"]  # "[1][1]" (two sentences of article 1) shows once
    assert "<img" not in message


def test_one_card_per_article_highlights_every_cited_sentence():
    data = answer()
    body = (
        "Opening. The captain is Marta Quill <img src=x>. After."
        + " " * 6
        + "Service resumes Monday."
    )
    data["citations"][0]["start"], data["citations"][0]["end"] = 9, 48
    data["citations"][1]["start"], data["citations"][1]["end"] = 61, 84
    section = render.sources_section(0, data, {"a1": body})
    assert section.count('class="src-card"') == 1
    assert section.count('<mark class="hl">') == 2  # both sentences, in the whole article
    assert section.count("<blockquote") == 2


def test_citation_card_highlights_exactly_the_quote_and_escapes_everything():
    data = answer()
    card = render.article_card(
        2, 1, [data["citations"][0]], body="X" * 10 + data["citations"][0]["quote"]
    )
    assert 'id="source-2-1"' in card
    assert "<mark>The captain is Marta Quill &lt;img src=x&gt;.</mark>" in card
    assert '<mark class="hl">The captain is Marta Quill &lt;img src=x&gt;.</mark>' in card
    assert "<script>" not in card and "&lt;script&gt;" in card
    assert "javascript:" not in card  # the unsafe URL is shown nowhere, and not linked
    assert "date unknown" in card


def test_citation_card_links_a_web_url_in_a_new_tab():
    card = render.article_card(0, 2, [answer()["citations"][1]], body=None)
    assert (
        '<a href="https://gazette.example/ferry" target="_blank" rel="noopener noreferrer">' in card
    )
    assert "2024-05-01" in card and "source unknown" in card
    assert "<details" not in card  # no body, no article view


def test_context_window_keeps_offsets_pointing_at_the_quote():
    text = " ".join(f"word{i}" for i in range(400))
    start = text.index("word200")
    end = start + len("word200 word201")
    cut, new_start, new_end = render.context_window(text, start, end, context=50)
    assert cut[new_start:new_end] == "word200 word201"
    assert cut.startswith("… ") and cut.endswith(" …") and len(cut) < 200


def test_refusal_lists_the_closest_sources_with_links():
    refused = answer(
        refused=True,
        text="The articles in the library don't answer this question.",
        citations=[],
        closest=[
            {
                "article_id": "a",
                "title": "Bridge <b>reopens</b>",
                "published_date": "2024-03-05",
                "text": "The bridge reopened.",
                "start": 0,
                "end": 20,
            }
        ],
    )
    message = render.answer_message(refused, turn=0)
    assert 'class="refusal"' in message and "these come closest" in message
    assert '<a class="cite" href="#source-0-1">[1]</a>' in message
    assert "<b>" not in message
    section = render.sources_section(0, refused, {"a": "The bridge reopened."})
    assert "Closest articles" in section and 'id="source-0-1"' in section


def test_sources_panel_keeps_older_turns_hidden_and_shows_the_newest():
    panel = render.sources_panel(
        [
            '<section class="turn-sources" data-turn="0">a</section>',
            '<section class="turn-sources" data-turn="1">b</section>',
        ]
    )
    assert 'class="turn-sources" hidden data-turn="0"' in panel
    assert 'class="turn-sources" data-turn="1"' in panel
    assert "appear here" in render.sources_panel([])


def test_conversation_export_has_questions_answers_and_quotes():
    text = render.conversation_markdown([answer()])
    assert "## Who is the ferry captain?" in text
    assert (
        "1. Ferry <script>x</script> news (Harbor Gazette, date unknown, javascript:alert(1))"
        in text
    )
    assert "   > Service resumes Monday." in text


def test_the_export_numbers_sources_by_article_as_the_chat_does():
    """#26 finding 7: one [1] in the chat, 1 and 2 in the export for the same article."""
    data = answer()
    data["citations"][1]["quote"] = "Service resumes\nMonday, the captain said."
    text = render.conversation_markdown([data])
    assert "The captain is Marta Quill <img src=x> [1]. Service resumes Monday [1]." in text
    assert "2. " not in text  # one article, one number
    assert "   > The captain is Marta Quill <img src=x>." in text
    assert "   > Service resumes Monday, the captain said." in text  # whole, one quote line


def test_a_syndicated_story_names_the_other_outlets_on_its_card_and_in_the_export():
    data = answer()
    data["citations"][0]["outlets"] = [
        {"url": "https://times.example/a", "source": "Harbor <b>Times</b>"},
        {"url": "javascript:alert(1)", "source": "Evil"},
    ]
    card = render.article_card(0, 1, [data["citations"][0]], body=None)
    assert "Also carried by:" in card
    assert '<a href="https://times.example/a"' in card and "Harbor &lt;b&gt;Times" in card
    assert "javascript:" not in card  # not a link: a name only
    exported = render.conversation_markdown([data])
    assert "Also carried by: Harbor <b>Times</b> (https://times.example/a)" in exported
