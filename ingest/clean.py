"""Text normalisation, boilerplate removal and the identity of an article."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[^\S\n]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")

# A line is boilerplate when it is short and matches one of these. Whole lines only:
# a sentence that merely mentions Instagram in the story's own text survives.
_BOILERPLATE = re.compile(
    r"""(
        \bfollow\s+us\s+on\b
      | \blike\s+us\s+on\s+facebook\b
      | \bsubscribe\s+to\s+our\b
      | \bsign\s+up\s+(for|to)\s+(our|the)\b.*\b(newsletter|alerts?|emails?)\b
      | \bsign\s+up\s+(for|to)\b.*\bnewsletter\b
      # Subscription and privacy notices (The Week UK, local USA Today sites): cited as answer
      # sentences before (#26).
      | \bwe\s+will\s+use\s+the\s+details\s+you\s+have\s+shared\b
      | \byou\s+agree\s+to\s+the\s+processing\b
      | \bfor\s+unlimited\s+access\b.*\bsubscri
      | \bplease\s+(help\s+us\b.*\bby\s+)?subscri | \bsubscribe\s+(today|now)\b
      | \bsubscribe\s+to\s+[\w.]+(\s+[\w.]+)?\s+today\b | \bsubscribe\s+&\s+save\b
      | \b(become|activate)\s+(a\s+|your\s+)?(digital\s+)?(subscriber|subscription)\b
      | \bsupport\s+local\s+journalism\b | \byour\s+subscription\s+makes\b
      | \bthank\s+you\s+for\s+supporting\s+our\s+journalism\b
      | \bnewsletter\b.*\b(sign\s+up|subscribe|inbox)\b
      | ^\s*(related|recommended|more|latest|trending|top)\s+
        (news|stories|articles|reading|videos?)\b
      | ^\s*read\s+(more|next|also)\s*[:|]
      | ^\s*(advertisement|sponsored( content)?|skip\s+advertisement)\s*$
      | \bwe\s+use\s+cookies\b | \bcookie\s+(policy|settings|preferences)\b
      | \baccept\s+(all\s+)?cookies\b
      | ^\s*share\s+(this|on)\b | ^\s*(click|tap)\s+here\s+to\b
      | ^\s*(©|\(c\)|copyright)\s | \ball\s+rights\s+reserved\b
      | \bdownload\s+(our|the)\s+app\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
BOILERPLATE_MAX_WORDS = 45


def normalize_text(text: str) -> str:
    """NFC, no invisible characters, single spaces, at most one blank line between paragraphs."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def is_boilerplate(line: str) -> bool:
    return len(line.split()) <= BOILERPLATE_MAX_WORDS and bool(_BOILERPLATE.search(line))


def clean_body(text: str) -> str:
    """Normalised article body without publisher boilerplate lines."""
    kept = [line for line in normalize_text(text).split("\n") if not is_boilerplate(line)]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(kept)).strip()


def clean_inline(text: str | None) -> str | None:
    """A one-line metadata value (title, author, source), or None when empty."""
    if text is None:
        return None
    value = " ".join(normalize_text(str(text)).split())
    return value or None


_TITLE_SITE = re.compile(r"\s+[|–—-]\s+([^|–—-]{2,40})$")


def clean_title(title: str | None, source: str | None) -> str | None:
    """A title without its site's name at the end ("... | The Week UK"), which some pages of a
    source carry and others don't; only when that name is the article's source."""
    value = clean_inline(title)
    if value is None or not source:
        return value
    match = _TITLE_SITE.search(value)
    if match and match.group(1).strip().casefold() == source.strip().casefold():
        return value[: match.start()].strip() or value
    return value


def content_hash(title: str, body: str) -> str:
    """Hash of the normalised text: the same story with other spacing or case hashes the same."""
    folded = " ".join(f"{title}\n{body}".casefold().split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


_TRACKING_PARAMS = re.compile(r"^(utm_|fbclid$|gclid$|mc_[a-z]+$|ref$|cmpid$)", re.IGNORECASE)


def canonical_url(url: str | None) -> str | None:
    """Lower-case scheme/host, no fragment, no tracking parameters, no trailing slash."""
    if not url or not url.strip():
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING_PARAMS.match(k)])
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def article_id(identity: str) -> str:
    """Short stable id from the article's identity (canonical URL, origin key or content hash)."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
