"""HTTP(S) fetches with a timeout and a size limit."""

from __future__ import annotations

import httpx

from ingest.loaders.base import Document, InputError

USER_AGENT = "newsrag/0.1 (+offline news QA; respects robots by fetching only what you name)"


def fetch(url: str, *, timeout_s: float, max_bytes: int) -> Document:
    """GET ``url``; raises InputError naming what went wrong (never a traceback)."""
    try:
        with httpx.stream(
            "GET",
            url,
            timeout=timeout_s,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
        ) as response:
            if response.status_code >= 400:
                raise InputError(f"HTTP {response.status_code} {response.reason_phrase}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise InputError(f"response is {declared} bytes, over the {max_bytes}-byte limit")
            data = bytearray()
            for piece in response.iter_bytes():
                data.extend(piece)
                if len(data) > max_bytes:
                    raise InputError(f"response exceeds the {max_bytes}-byte limit")
            return Document(
                location=url,
                data=bytes(data),
                origin=url,
                url=str(response.url),
                content_type=response.headers.get("content-type"),
            )
    except httpx.TimeoutException:
        raise InputError(f"unreachable: no answer within {timeout_s:g} s") from None
    except httpx.HTTPError as error:
        raise InputError(f"unreachable: {error.__class__.__name__}: {error}") from None
