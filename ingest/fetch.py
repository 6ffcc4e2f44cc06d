"""HTTP(S) fetches with a timeout, a size limit, and no requests to private addresses.

A URL reaches us from people who may not be trusted with the server's own network (the chat
window's "add URLs" box, a feed's entry links, redirects): fetching ``http://127.0.0.1/admin``
on their behalf and answering from it leaks what only the server can see. So by default every
connection is checked where it is made: the host is resolved, every address it resolves to must
be public, and the socket connects to one of those checked addresses. Checking at connect time
(not only by looking at the URL first) means a name that resolves to a public address when
checked and a private one when connected (DNS rebinding) gets nowhere, and a redirect to a
private address is refused like a direct link. ``allow_private_urls`` (env
``NEWSRAG_ALLOW_PRIVATE_URLS``) turns the check off for an intranet or the tests.

Through a proxy (``HTTPS_PROXY`` and friends) the proxy makes the connection: each request's
host is still checked before it is sent, but rebinding protection is then the proxy's job.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from ingest.loaders.base import Document, InputError

USER_AGENT = "newsrag/0.1 (+offline news QA; respects robots by fetching only what you name)"
ALLOW_HINT = "set allow_private_urls (env NEWSRAG_ALLOW_PRIVATE_URLS=1) to fetch them"


class PrivateAddressError(InputError):
    """A URL whose host is (or resolves to) a loopback, private or otherwise non-public address."""


def non_public_kind(address: str) -> str | None:
    """What kind of non-public address ``address`` is (None: a public one)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind, hit in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),  # 169.254.169.254: cloud metadata services
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),  # last: Python counts most of the above as private too
    ):
        if hit:
            return kind
    return None if ip.is_global else "non-public"


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to now (each connection asks again)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise InputError(f"unreachable: cannot resolve {host!r} ({error.strerror})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def public_addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, all of them checked; ``PrivateAddressError`` if any
    is not public (a name with one private record among public ones is refused too)."""
    addresses = resolve(host, port)
    for address in addresses:
        if kind := non_public_kind(address):
            shown = host if host == address else f"{host} ({address})"
            raise PrivateAddressError(
                f"refused: {shown} is a {kind} address; private addresses are not fetched "
                f"({ALLOW_HINT})"
            )
    return addresses


class PublicOnlyBackend(httpcore.SyncBackend):
    """httpcore's socket layer, connecting only to checked public addresses."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        for address in public_addresses(host, port):
            try:  # TLS still verifies the certificate against ``host`` (httpcore's SNI)
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                last_error = error
        raise last_error or httpcore.ConnectError(f"no address for {host!r}")


def _check_request(request: httpx.Request) -> None:
    """Every request, redirects included, before it is sent (a proxy's too)."""
    if request.url.scheme not in ("http", "https"):
        raise InputError(f"refused: {request.url} is not an http(s) URL")
    public_addresses(request.url.host, request.url.port or 443)


def client(*, timeout_s: float, allow_private: bool) -> httpx.Client:
    """An HTTP client for untrusted URLs (see the module docstring)."""
    options: dict[str, Any] = {
        "timeout": timeout_s,
        "follow_redirects": True,
        "headers": {"User-Agent": USER_AGENT},
    }
    if allow_private:
        return httpx.Client(**options)
    checked = {"event_hooks": {"request": [_check_request]}}
    if any(urllib.request.getproxies().get(scheme) for scheme in ("http", "https")):
        return httpx.Client(**options, **checked)  # httpx routes through the proxy
    transport = httpx.HTTPTransport()
    # httpx has no public hook for the socket layer; httpcore's pool takes one (network_backend).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(), network_backend=PublicOnlyBackend()
    )
    return httpx.Client(**options, **checked, transport=transport)


@dataclass
class Fetched:
    """One response: its status, the headers a poller needs, and the body (within the limit)."""

    status: int
    reason: str
    headers: httpx.Headers
    document: Document  # empty data for a 304 or an error status


def get(
    url: str,
    *,
    timeout_s: float,
    max_bytes: int,
    allow_private: bool = False,
    headers: dict[str, str] | None = None,
) -> Fetched:
    """GET ``url`` whatever the status; InputError when there is no usable response.
    ``timeout_s`` bounds each read and the whole download: a server dripping a few bytes
    every second would otherwise never trip a per-read timeout (docs/security.md promises
    protection against a URL that streams forever)."""
    deadline = time.monotonic() + timeout_s
    try:
        with (
            client(timeout_s=timeout_s, allow_private=allow_private) as http,
            http.stream("GET", url, headers=headers) as response,
        ):
            data = bytearray()
            if response.status_code < 300:
                declared = int(response.headers.get("content-length") or 0)
                if declared > max_bytes:
                    raise InputError(
                        f"response is {declared} bytes, over the {max_bytes}-byte limit"
                    )
                for piece in response.iter_bytes():
                    data.extend(piece)
                    if len(data) > max_bytes:
                        raise InputError(f"response exceeds the {max_bytes}-byte limit")
                    if time.monotonic() > deadline:
                        raise InputError(
                            f"unreachable: the response took over {timeout_s:g} s "
                            f"({len(data)} bytes by then)"
                        )
            return Fetched(
                status=response.status_code,
                reason=response.reason_phrase,
                headers=response.headers,
                document=Document(
                    location=url,
                    data=bytes(data),
                    origin=url,
                    url=str(response.url),
                    content_type=response.headers.get("content-type"),
                ),
            )
    except httpx.TimeoutException:
        raise InputError(f"unreachable: no answer within {timeout_s:g} s") from None
    except httpx.HTTPError as error:
        raise InputError(f"unreachable: {error.__class__.__name__}: {error}") from None


def fetch(url: str, *, timeout_s: float, max_bytes: int, allow_private: bool = False) -> Document:
    """GET ``url``; raises InputError naming what went wrong (never a traceback)."""
    got = get(url, timeout_s=timeout_s, max_bytes=max_bytes, allow_private=allow_private)
    if got.status >= 400:
        raise InputError(f"HTTP {got.status} {got.reason}")
    return got.document
