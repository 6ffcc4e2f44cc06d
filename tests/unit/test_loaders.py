import json

import pytest

from ingest.loaders import Document, InputError, LoadFailure, LoadOptions, RawArticle, loader_for


def load(name: str, data: str | bytes, **options) -> list:
    raw = data.encode() if isinstance(data, str) else data
    doc = Document(location=name, data=raw, origin=f"/abs/{name}")
    return list(loader_for(doc)(doc, LoadOptions(**options)))


def test_txt_first_line_is_headline():
    [article] = load("a.txt", "Storm hits coast\nA storm hit the coast.\nPower is out.")
    assert article.title == "Storm hits coast"
    assert article.body == "A storm hit the coast.\nPower is out."
    assert article.published is None and article.source is None


def test_txt_front_matter_wins_over_first_line():
    text = "---\ntitle: Real title\ndate: 2024-03-05\nsource: Daily Planet\n---\nFirst line.\nMore."
    [article] = load("a.txt", text)
    assert article.title == "Real title"
    assert article.body.startswith("First line.")
    assert str(article.published) == "2024-03-05"
    assert article.source == "Daily Planet"


def test_txt_header_lines_are_metadata_as_people_write_them():
    """#26 finding 8: "Title: ..." stayed in the title, with source and date unknown."""
    text = (
        "Title: Harbour bridge reopens\nDate: 2024-03-05\nSource: Bay Herald\nBy: Sam Wu\n\n"
        "Update: the bridge reopened on Tuesday.\nTraffic is light."
    )
    [article] = load("a.txt", text)
    assert article.title == "Harbour bridge reopens"
    assert str(article.published) == "2024-03-05" and article.source == "Bay Herald"
    assert article.author == "Sam Wu"
    assert article.body == "Update: the bridge reopened on Tuesday.\nTraffic is light."


def test_a_txt_that_starts_with_a_colon_line_that_is_no_header_keeps_it_as_the_headline():
    [article] = load("a.txt", "Breaking: storm hits coast\nA storm hit the coast.")
    assert article.title == "Breaking: storm hits coast"


def test_markdown_front_matter_and_markup_removed():
    text = (
        "---\ntitle: Council votes\nauthor: [Ann Lee, Bo Chan]\nurl: https://ex.com/c\n---\n"
        "# Ignored heading\n\nThe **council** voted on [the budget](https://ex.com/b).\n"
        "- first item\n![chart](c.png)\n"
    )
    [article] = load("a.md", text)
    assert article.title == "Council votes"
    assert article.author == "Ann Lee, Bo Chan"
    assert article.url == "https://ex.com/c"
    assert "The council voted on the budget." in article.body
    assert "first item" in article.body
    assert "](" not in article.body and "**" not in article.body


def test_markdown_heading_is_title_without_front_matter():
    [article] = load("a.md", "# Bridge reopens\n\nThe bridge reopened on Friday.")
    assert article.title == "Bridge reopens"
    assert article.body.strip() == "The bridge reopened on Friday."


HTML = """<html><head><title>Storm hits coast | Daily Planet</title>
<link rel="canonical" href="https://example.com/news/storm-hits"/>
<meta property="og:site_name" content="Daily Planet"><meta name="author" content="Lois Lane">
<meta property="article:published_time" content="2024-03-05T10:00:00Z"></head>
<body><nav>Home | World | Sports</nav><article><h1>Storm hits coast</h1>
<p>A powerful storm hit the coast on Tuesday, leaving thousands of homes without power for the
night. Officials said the damage was extensive and repairs would take several weeks.</p>
<p>Mayor Jane Doe said the city would open three shelters for residents.</p></article>
<footer>Copyright 2024 Daily Planet. All rights reserved.</footer></body></html>"""


def test_html_main_text_and_metadata():
    [article] = load("page.html", HTML)
    assert article.title == "Storm hits coast"
    assert article.source == "Daily Planet"
    assert article.author == "Lois Lane"
    assert article.url == "https://example.com/news/storm-hits"
    assert str(article.published) == "2024-03-05"
    assert "Mayor Jane Doe" in article.body
    assert "Home | World" not in article.body
    assert not article.body.startswith("Storm hits coast")


def test_html_without_a_date_keeps_it_unknown():
    html = HTML.replace(
        '<meta property="article:published_time" content="2024-03-05T10:00:00Z">', ""
    )
    [article] = load("page.html", html)
    assert article.published is None


def test_html_with_no_text_is_an_input_error():
    with pytest.raises(InputError, match="no article text"):
        load("page.htm", "<html><head><title>t</title></head><body></body></html>")


def test_jsonl_usual_field_names_and_line_numbers():
    lines = [
        json.dumps(
            {
                "headline": "A",
                "text": "Body A.",
                "link": "https://ex.com/a",
                "pubDate": "2024-01-02",
            }
        ),
        "",
        "{not json",
        json.dumps({"title": "No body here"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "r5", "title": "E", "content": "Body E.", "authors": ["X", "Y"]}),
    ]
    results = load("export.jsonl", "\n".join(lines))
    articles = [r for r in results if isinstance(r, RawArticle)]
    failures = [r for r in results if isinstance(r, LoadFailure)]
    assert [a.title for a in articles] == ["A", "E"]
    assert articles[0].url == "https://ex.com/a" and articles[0].published == "2024-01-02"
    assert articles[1].author == "X, Y" and articles[1].origin_key == "r5"
    assert [f.location for f in failures] == ["export.jsonl:3", "export.jsonl:4", "export.jsonl:5"]
    assert "malformed JSON" in failures[0].reason
    assert "no article body" in failures[1].reason


def test_jsonl_field_map_overrides_lookup():
    line = json.dumps({"hed": "Mapped", "maintext": "Body.", "body": "wrong field"})
    [article] = load("x.jsonl", line, field_map={"title": "hed", "body": "maintext"})
    assert (article.title, article.body) == ("Mapped", "Body.")


def test_json_array_and_wrapped_object():
    array = json.dumps([{"title": "A", "body": "a."}, {"title": "B", "body": "b."}])
    wrapped = json.dumps({"articles": [{"title": "C", "body": "c."}]})
    assert [a.title for a in load("x.json", array)] == ["A", "B"]
    assert [a.title for a in load("y.json", wrapped)] == ["C"]


def test_invalid_json_names_the_line():
    with pytest.raises(InputError, match="invalid JSON at line 2"):
        load("x.json", '[\n{"title": }]')


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Town Gazette</title>
<item><title>Full story</title><link>https://gazette.example/full</link>
<pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA[<p>{full}</p>]]></content:encoded>
</item>
<item><title>Teaser only</title><link>https://gazette.example/teaser</link>
<description>The council met tonight.</description></item>
</channel></rss>"""


def test_feed_full_content_and_summary_fallback_with_note():
    full = "The library board approved the new branch. " * 40
    results = load("town.rss", RSS.replace("{full}", full))
    full_entry, teaser = results
    assert full_entry.title == "Full story" and full_entry.source == "Town Gazette"
    assert full_entry.published == "2024-03-05"
    assert full_entry.body.count("library board") == 40
    assert teaser.body == "The council met tonight."
    assert teaser.notes == ["summary only: the linked page could not be fetched"]


def test_xml_that_is_not_a_feed():
    with pytest.raises(InputError, match="not an RSS/Atom feed"):
        load("data.xml", "<html><body>hello</body>")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("bin.txt", b"\x00\x01\x02binary", "binary file"),
        ("bad.txt", b"caf\xe9 latin-1", "invalid UTF-8"),
        ("blank.txt", "\n\n  \n", "empty file"),
        ("x.docx", "whatever", "unsupported file type '.docx'"),
    ],
)
def test_unusable_inputs(name, data, reason):
    with pytest.raises(InputError, match=reason):
        load(name, data)
