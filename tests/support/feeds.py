"""A loopback feed server whose feeds change between polls, for the poller's tests.

Each path is served by a ``Feed`` (RSS with an ETag, answering 304 to a matching
If-None-Match) or by a function of the request; every request is logged with its headers, so a
test can see a conditional GET or a page that was (not) fetched again.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/rss+xml"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Entry:
    guid: str
    title: str
    text: str = ""  # full content; "" = a summary-only entry whose link has the story
    link: str = ""
    published: datetime = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    updated: datetime | None = None


@dataclass
class Feed:
    title: str
    entries: list[Entry] = field(default_factory=list)

    def xml(self) -> bytes:
        items = []
        for e in self.entries:
            parts = [f"<guid>{escape(e.guid)}</guid>", f"<title>{escape(e.title)}</title>",
                     f"<pubDate>{format_datetime(e.published)}</pubDate>"]  # fmt: skip
            if e.link:
                parts.append(f"<link>{escape(e.link)}</link>")
            if e.updated:
                parts.append(f"<atom:updated>{e.updated.isoformat()}</atom:updated>")
            if e.text:
                parts.append(f"<content:encoded><![CDATA[<p>{e.text}</p>]]></content:encoded>")
            else:
                parts.append(f"<description>{escape(e.title)}</description>")
            items.append(f"<item>{''.join(parts)}</item>")
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f"<title>{escape(self.title)}</title><link>http://example.org/</link>"
            f"<description>{escape(self.title)}</description>{''.join(items)}</channel></rss>"
        ).encode()

    def __call__(self, headers: dict[str, str]) -> Reply:
        body = self.xml()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if headers.get("if-none-match") == etag:
            return Reply(304, b"", headers={"ETag": etag})
        return Reply(200, body, headers={"ETag": etag})


Route = Callable[[dict[str, str]], Reply]


@dataclass
class Request:
    path: str
    headers: dict[str, str]


class FeedServer:
    def __init__(self, server: ThreadingHTTPServer):
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    def requested(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def page(self, path: str, title: str, text: str) -> None:
        html = (f"<html><head><title>{escape(title)}</title></head><body><article>"
                f"<h1>{escape(title)}</h1><p>{escape(text)}</p></article></body></html>")  # fmt: skip
        self.routes[path] = lambda _: Reply(200, html.encode(), "text/html; charset=utf-8")


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    holder: dict[str, FeedServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            feeds = holder["server"]
            headers = {k.lower(): v for k, v in self.headers.items()}
            with feeds.lock:
                feeds.requests.append(Request(self.path, headers))
            route = feeds.routes.get(self.path)
            reply = route(headers) if route else Reply(404, b"not found", "text/plain")
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout or a size limit at work)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["server"] = FeedServer(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["server"]
    finally:
        server.shutdown()
        server.server_close()
