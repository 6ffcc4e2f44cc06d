"""Real servers on loopback: a free port, "is it up yet", and a small web server."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    """Until ``url`` answers below HTTP 500; fails at once if ``process`` exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not come up in {seconds} s")


Route = tuple[int, str, bytes] | Callable[[], tuple[int, str, bytes]]


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, Route] = {}  # noqa: RUF012  (set per server)

    def do_POST(self) -> None:  # routes["POST /path"]; the request body is read and ignored
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(self.routes.get(f"POST {self.path}"))

    def do_GET(self) -> None:
        self._answer(self.routes.get(self.path))

    def _answer(self, route: Route | None) -> None:
        if route is None:
            status, kind, body = 404, "text/plain", b"not found"
        else:
            status, kind, body = route() if callable(route) else route
        if not isinstance(body, bytes):  # pieces sent as they come, the length unsaid
            self._drip(status, kind, body)
            return
        try:
            self.send_response(status)
            if 300 <= status < 400:  # a redirect's body is where it points
                self.send_header("Location", body.decode())
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading (a size limit at work): nothing more to send

    def _drip(self, status: int, kind: str, pieces) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.end_headers()
            for piece in pieces:
                self.wfile.write(piece)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what a timeout test wants

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def web_server(host: str = "127.0.0.1") -> Iterator[ThreadingHTTPServer]:
    """A loopback web server: ``server.routes["/path"] = (status, content_type, body)``."""
    handler = type("Handler", (_Handler,), {"routes": {}})
    server = ThreadingHTTPServer((host, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.routes = handler.routes
    server.url = f"http://{host}:{server.server_address[1]}"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class HoldingProxy:
    """A loopback HTTP proxy to ``target`` that holds the ``hold_at``-th request whose path ends
    with ``suffix`` until ``release`` is set or the proxy closes (then forwards it, even when the
    client has gone: the write lands late, as a real one can): a test knows exactly where the
    client is, e.g. inside a Chroma upsert, without sleeping or polling."""

    SKIPPED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection",
                       "content-encoding", "keep-alive"})  # fmt: skip

    def __init__(self, target: str, suffix: str, hold_at: int = 1, hold_limit_s: float = 600):
        self.target, self.suffix, self.hold_at = target.rstrip("/"), suffix, hold_at
        self.hold_limit_s = hold_limit_s
        self.held = threading.Event()
        self.release = threading.Event()
        self.forwarded = threading.Event()  # the held request has reached the target
        self._seen = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the client expects

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hold = False
                if self.path.split("?")[0].endswith(proxy.suffix):
                    with proxy._lock:
                        proxy._seen += 1
                        hold = proxy._seen == proxy.hold_at
                    if hold:
                        proxy.held.set()
                        proxy.release.wait(proxy.hold_limit_s)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in proxy.SKIPPED_HEADERS}  # fmt: skip
                reply = httpx.request(self.command, proxy.target + self.path, content=body,
                                      headers=headers, timeout=120)  # fmt: skip
                if hold:
                    proxy.forwarded.set()
                try:
                    self.send_response(reply.status_code)
                    for key, value in reply.headers.items():
                        if key.lower() not in proxy.SKIPPED_HEADERS:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(reply.content)))
                    self.end_headers()
                    self.wfile.write(reply.content)
                except OSError:  # the client went away while its request was held
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> HoldingProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        if self.held.is_set():  # what the target holds after this is final: no late arrivals
            self.forwarded.wait(self.hold_limit_s)
        self.server.shutdown()
        self.server.server_close()
