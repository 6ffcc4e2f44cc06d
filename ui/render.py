"""Answers, sources and articles as safe markup.

Article text (titles, quotes, bodies, URLs) is untrusted: an article may contain ``<script>``,
``<img onerror=...>`` or a ``javascript:`` Markdown link. The chat renders Markdown and the
sources panel raw HTML, so every piece of article text is escaped here, and only here, for the
place it goes. Only ``http(s)`` URLs ever become links.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import urlparse

import rag

CITATION_MARKER = re.compile(r"\[(\d+)\]")
# Markdown punctuation; & < > are HTML-escaped instead (a backslash can't escape an entity).
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")
PASSAGE_CONTEXT = 280  # characters of the passage shown either side of the quote


def markdown_text(text: str) -> str:
    """``text`` as Markdown that renders to exactly that text: no markup, links or images."""
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", text), quote=True)


def html_text(text: str) -> str:
    return html.escape(text, quote=True)


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain web link, else None (``javascript:``, ``data:``... are dropped)."""
    if not url:
        return None
    parsed = urlparse(url.strip())
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return url.strip()
    return None


def day_label(value: date | str | None) -> str:
    if value in (None, ""):
        return "date unknown"
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def source_anchor(turn: int, n: int) -> str:
    return f"source-{turn}-{n}"


# ------------------------------------------------------------------------- chat messages
def article_numbers(citations: Sequence[dict[str, Any]]) -> dict[int, int]:
    """Citation number -> the number of its article, 1.. in order of first citation: the
    window numbers sources per article (an Answer numbers them per quoted sentence)."""
    numbers: dict[str, int] = {}
    return {c["n"]: numbers.setdefault(c["article_id"], len(numbers) + 1) for c in citations}


def answer_message(answer: dict[str, Any], turn: int) -> str:
    """The assistant's chat message (Markdown): answer text with [n] as links to its sources."""
    if answer.get("refused"):
        return refusal_message(answer, turn)
    pieces = []
    for piece, article in _marked(answer["text"], answer.get("citations", [])):
        pieces.append(markdown_text(piece))
        if article is not None:
            pieces.append(f'<a class="cite" href="#{source_anchor(turn, article)}">[{article}]</a>')
    message = "".join(pieces).strip()
    if answer.get("short_answer"):
        message = f"**{markdown_text(answer['short_answer'])}**\n\n{message}"
    scope = searched_line(answer, always=False)
    return f"{message}\n\n{scope}" if scope else message


def searched_line(answer: dict[str, Any], *, always: bool) -> str:
    """What was searched (dates, the words that set them, sources): always for a refusal, for
    an answer only when something narrowed the search."""
    scope = rag.SearchScope.model_validate(answer.get("searched") or {})
    if not (always or scope.narrowed or scope.time_expression):
        return ""
    return f'<span class="searched">Searched {markdown_text(scope.describe())}.</span>'


# The refusal's second chance: the button reads the article that may answer, whole.
ASK_ARTICLE = "Ask the article that may answer it"
SEARCH_EVERYTHING = "Search all dates and sources"


def refusal_message(answer: dict[str, Any], turn: int) -> str:
    closest = answer.get("closest") or []
    lines = ['<span class="refusal">Not in the library</span>', "", markdown_text(answer["text"])]
    lines += ["", searched_line(answer, always=True)]
    if closest:
        lines += ["", "The articles don't say; these come closest:", ""]
        for n, passage in enumerate(closest, 1):
            title = markdown_text(passage["title"])
            day = markdown_text(day_label(passage.get("published_date")))
            link = f'<a class="cite" href="#{source_anchor(turn, n)}">[{n}]</a>'
            lines.append(f"- {link} {title} ({day})")
        suggested = [
            n for n, p in enumerate(closest, 1) if p["article_id"] == answer.get("may_answer")
        ]
        if suggested:
            n = suggested[0]
            link = f'<a class="cite" href="#{source_anchor(turn, n)}">[{n}]</a>'
            lines += ["", f"Article {link} may answer it: its title is about what you asked. "
                      f"**{ASK_ARTICLE}** below reads all of it."]  # fmt: skip
    else:
        lines += ["", "No article in the library comes close."]
    if unverified := unverified_block(answer):
        lines += ["", unverified]
    return "\n".join(lines)


def error_message(message: str) -> str:
    return f'<span class="problem">Can\'t answer that</span>\n\n{markdown_text(message)}'


def filters_summary(since: Any, until: Any, as_of: Any, sources: Any) -> str:
    """One line by the question box: what the next question will search."""
    day = str(as_of)[:10] if as_of else f"today ({date.today().isoformat()})"
    if since and until:
        dates = f"published {str(since)[:10]} to {str(until)[:10]}"
    elif since or until:
        dates = f"published {'since ' + str(since)[:10] if since else 'up to ' + str(until)[:10]}"
    else:
        dates = "any publication date (or the question's own, e.g. “last week”)"
    chosen = ", ".join(sources) if sources else "all sources"
    return (
        f'<div class="active-filters">As of <b>{html_text(day)}</b> · {html_text(dates)} · '
        f'{html_text(chosen)} <span class="hint">(change in Filters)</span></div>'
    )


STOPPED = "*Stopped before the answer was finished.*"
SEARCHING = "*Searching the library…*"


def streaming_message(partial: str) -> str:
    return markdown_text(partial) + " ▍"


def progress_message(found: rag.Retrieved, answerer: str, words: int) -> str:
    """While an answer is prepared: what was found, and who is writing (not what, yet)."""
    passages = f"{found.passages} passage{'' if found.passages == 1 else 's'}"
    articles = f"{found.articles} article{'' if found.articles == 1 else 's'}"
    doing = f"{answerer} is writing" + (f" ({words} words so far)" if words else "")
    if found.expected_s is not None:  # an LLM already timed on this machine
        doing += f", expected to take about {expected_time(found.expected_s)}"
    return f"*Found {passages} in {articles} · {markdown_text(doing)}…*"


def expected_time(seconds: float) -> str:
    """'8 s', '35 s', '2 min': as precise as an estimate is."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


def unverified_block(answer: dict[str, Any]) -> str:
    """What an LLM wrote that verification removed entirely, collapsed and labelled."""
    raw = str(((answer.get("debug") or {}).get("answerer") or {}).get("raw") or "").strip()
    if answer.get("answerer") != "llm" or not raw:
        return ""
    return (
        '<details class="unverified"><summary>What the model wrote (unverified: no article '
        f"supports it)</summary>\n\n{markdown_text(raw)}\n\n</details>"
    )


# ------------------------------------------------------------------------- sources panel
def _outlets_line(outlets: Sequence[dict[str, Any]]) -> str:
    """'Also carried by: Harbor Times, The Ledger' with links (a syndicated story)."""
    if not outlets:
        return ""
    names = []
    for outlet in outlets:
        name = html_text(outlet.get("source") or outlet.get("url") or "another outlet")
        link = safe_url(outlet.get("url"))
        names.append(f'<a href="{html_text(link)}" target="_blank" rel="noopener noreferrer">'
                     f"{name}</a>" if link else name)  # fmt: skip
    return f'<div class="src-meta src-outlets">Also carried by: {", ".join(names)}</div>'


def _card_header(n: int, title: str, url: str | None, source: str | None, day: Any) -> str:
    link = safe_url(url)
    title_html = html_text(title)
    if link:
        new_tab = 'target="_blank" rel="noopener noreferrer"'
        title_html = f'<a href="{html_text(link)}" {new_tab}>{title_html}</a>'
    meta = " · ".join([html_text(source or "source unknown"), html_text(day_label(day))])
    return (
        f'<header><span class="src-n">{n}</span><span class="src-title">{title_html}</span>'
        f'</header><div class="src-meta">{meta}</div>'
    )


def _article_view(body: str | None, spans: Sequence[tuple[int, int]]) -> str:
    if not body:
        return ""
    return (
        '<details class="src-article"><summary>Read the whole article</summary>'
        f'<div class="article-body">{_highlighted(body, spans, "hl")}</div></details>'
    )


def _highlighted(text: str, spans: Sequence[tuple[int, int]], mark_class: str = "") -> str:
    """``text`` escaped, each non-empty span inside <mark> (spans sorted, not overlapping)."""
    css = f' class="{mark_class}"' if mark_class else ""
    pieces, position = [], 0
    for start, end in spans:
        start, end = max(position, min(start, len(text))), max(0, min(end, len(text)))
        if end <= start:
            continue
        pieces += [html_text(text[position:start]), f"<mark{css}>", html_text(text[start:end]),
                   "</mark>"]  # fmt: skip
        position = end
    pieces.append(html_text(text[position:]))
    return "".join(pieces)


def context_window(text: str, start: int, end: int, context: int = PASSAGE_CONTEXT):
    """``text`` cut to ``context`` characters around [start, end) at word boundaries, with
    ellipses; returns (text, start, end) with the offsets moved to match."""
    left = max(0, start - context)
    right = min(len(text), end + context)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    prefix = "… " if left > 0 else ""
    suffix = " …" if right < len(text) else ""
    shift = len(prefix) - left
    return prefix + text[left:right] + suffix, start + shift, end + shift


def _quote_context(citation: dict[str, Any]) -> str:
    """The quoted sentence highlighted in a few lines of its passage."""
    passage = citation.get("passage") or citation["quote"]
    offset = citation["start"] - citation.get("passage_start", 0)
    if passage[offset : offset + len(citation["quote"])] != citation["quote"]:
        offset = max(passage.find(citation["quote"]), 0)
    passage, offset, quote_end = context_window(passage, offset, offset + len(citation["quote"]))
    marked = _highlighted(passage, [(offset, quote_end)])
    return f'<blockquote class="src-passage">{marked}</blockquote>'


def article_card(turn: int, n: int, cited: Sequence[dict[str, Any]], body: str | None) -> str:
    """One card per article: each sentence it is cited for, highlighted in context, and the
    whole article with all of them highlighted."""
    first = cited[0]
    spans = sorted({(c["start"], c["end"]) for c in cited})
    return (
        f'<article class="src-card" id="{source_anchor(turn, n)}">'
        + _card_header(
            n, first["title"], first.get("url"), first.get("source"), first.get("published_date")
        )
        + _outlets_line(first.get("outlets") or [])
        + "".join(_quote_context(c) for c in sorted(cited, key=lambda c: c["start"]))
        + _article_view(body, spans)
        + "</article>"
    )


def closest_card(turn: int, n: int, passage: dict[str, Any], body: str | None) -> str:
    published = passage.get("published_date")
    header = _card_header(n, passage["title"], passage.get("url"), passage.get("source"), published)
    opening = context_window(passage["text"], 0, 0, 2 * PASSAGE_CONTEXT)[0]
    return (
        f'<article class="src-card closest" id="{source_anchor(turn, n)}">{header}'
        f'<blockquote class="src-passage">{html_text(opening)}</blockquote>'
        + _article_view(body, [])
        + "</article>"
    )


def sources_section(turn: int, answer: dict[str, Any], bodies: dict[str, str | None]) -> str:
    """One answer's sources; the panel holds a section per turn and shows the newest."""
    if answer.get("refused"):
        cards = [
            closest_card(turn, n, passage, bodies.get(passage["article_id"]))
            for n, passage in enumerate(answer.get("closest") or [], 1)
        ]
        heading = "Closest articles (they don't answer the question)"
    else:
        by_article: dict[int, list[dict[str, Any]]] = {}
        numbers = article_numbers(answer.get("citations", []))
        for citation in answer.get("citations", []):
            by_article.setdefault(numbers[citation["n"]], []).append(citation)
        cards = [
            article_card(turn, n, cited, bodies.get(cited[0]["article_id"]))
            for n, cited in by_article.items()
        ]
        heading = "Sources"
    question = html_text(answer.get("question", ""))
    return (
        f'<section class="turn-sources" data-turn="{turn}">'
        f'<h3>{heading}</h3><p class="src-question">{question}</p>{"".join(cards)}</section>'
    )


def sources_panel(sections: Sequence[str]) -> str:
    if not sections:
        return (
            '<div class="sources-empty">Sources of an answer appear here, with the supporting '
            "sentence highlighted.</div>"
        )
    # Older turns stay in the page (hidden) so their [n] links still open their sources.
    hidden = [
        section.replace('class="turn-sources"', 'class="turn-sources" hidden', 1)
        for section in sections[:-1]
    ]
    return '<div class="sources">' + "".join([*hidden, sections[-1]]) + "</div>"


# ------------------------------------------------------------------------- export
def conversation_markdown(answers: Sequence[dict[str, Any]]) -> str:
    """The conversation with its sources, as a Markdown document (a file, so plain text).
    Sources are numbered per article, as the chat window numbers them, with every quote of
    an article under it, whole (a quote over several lines stays one quoted paragraph)."""
    lines = ["# newsrag conversation", ""]
    for answer in answers:
        refused = answer.get("refused")
        citations = [] if refused else answer.get("citations", [])
        lines += [f"## {answer['question']}", "", _article_markers(answer["text"], citations), ""]
        if refused:
            listed = [(n, p, []) for n, p in enumerate(answer.get("closest") or [], 1)]
            if listed:
                lines += ["Closest articles:", ""]
        else:
            to_article = article_numbers(citations)
            by_article: dict[int, tuple[dict[str, Any], list[str]]] = {}
            for citation in citations:
                _, quotes = by_article.setdefault(to_article[citation["n"]], (citation, []))
                quotes.append(citation["quote"])
            listed = [(n, item, quotes) for n, (item, quotes) in by_article.items()]
            if listed:
                lines += ["Sources:", ""]
        for n, item, quotes in listed:
            parts = (item.get("source"), day_label(item.get("published_date")), item.get("url"))
            where = ", ".join(part for part in parts if part)
            lines.append(f"{n}. {item['title']} ({where})")
            if outlets := item.get("outlets"):
                carried = ", ".join(f"{o.get('source') or 'unknown'} ({o['url']})" for o in outlets)
                lines.append(f"   Also carried by: {carried}")
            lines += [f"   > {' '.join(quote.split())}" for quote in quotes]
        lines.append("")
    return "\n".join(lines)


def _article_markers(text: str, citations: Sequence[dict[str, Any]]) -> str:
    """``text`` with each [n] as its article's number, as ``answer_message`` shows them."""
    marked = "".join(p + (f"[{a}]" if a is not None else "") for p, a in _marked(text, citations))
    return re.sub(r" +([.,;:!?])", r"\1", marked)


def _marked(text: str, citations: Sequence[dict[str, Any]]) -> list[tuple[str, int | None]]:
    """``text`` as pieces, each followed by the article number its [n] marker stands for
    (None: no marker). A marker of no citation is dropped; "[1][1]" (two sentences of one
    article) is one marker."""
    to_article = article_numbers(citations)
    found: list[tuple[str, int | None]] = []
    position, previous_end, previous_article = 0, -1, None
    for match in CITATION_MARKER.finditer(text):
        piece, position = text[position : match.start()], match.end()
        article = to_article.get(int(match.group(1)))
        if article is None or (match.start() == previous_end and article == previous_article):
            found.append((piece, None))
            previous_end = match.end() if article is not None else previous_end
            continue
        found.append((piece, article))
        previous_end, previous_article = match.end(), article
    found.append((text[position:], None))
    return found


def when(iso: str | None) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM UTC' (stable: no "5 min ago" going stale)."""
    return f"{iso[:10]} {iso[11:16]} UTC" if iso else "never"


def feeds_summary(subscriptions: list[rag.Subscription]) -> str:
    """For the header: '3 feeds: 2 ok, 1 failing' ('' without subscriptions)."""
    if not subscriptions:
        return ""
    failing = sum(1 for s in subscriptions if s.last_error)
    noun = "feed" if len(subscriptions) == 1 else "feeds"
    state = f"{len(subscriptions) - failing} ok" + (f", {failing} failing" if failing else "")
    return f"{len(subscriptions)} {noun}: {state}"
