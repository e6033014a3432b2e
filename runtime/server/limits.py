"""What a connection may take from the host: how large a request's head, and how long the host waits on a client.

A request's URL may be 16 KB and its headers 32 KB in all, Cloudflare's limits for a Worker's request
(https://developers.cloudflare.com/workers/platform/limits/#request-limits). Past either, the host
answers 414 or 431 at once and reads no further, so a huge header never gets buffered and re-parsed
while other clients wait. The head of a request (its line and headers) must arrive within the header
timeout, counted from connecting or from the request's first byte, and its body may not pause longer;
a kept-alive connection waits the idle timeout for its next request. The defaults, and why, are with
the settings (``runtime.config.model``).

The protocol that applies these is in ``uvicorn_server``, the one module that touches uvicorn's internals.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config.model import DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT

__all__ = ["MAX_HEADER_BYTES", "MAX_URL_BYTES", "ConnectionLimits", "Refusal", "refusal_response"]

MAX_URL_BYTES = 16 * 1024
MAX_HEADER_BYTES = 32 * 1024  # each header counted as sent: name, ": ", value and CRLF


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """The limits of every connection a server accepts (seconds and bytes)."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    max_url_bytes: int = MAX_URL_BYTES
    max_header_bytes: int = MAX_HEADER_BYTES

    @property
    def head_bytes(self) -> int:
        """How many bytes a request's head may take before it must be complete: the URL, the headers,
        and room for the method, the HTTP version and line ends."""
        return self.max_url_bytes + self.max_header_bytes + 1024


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the host refuses a request before it reaches the app: a status and a sentence."""

    status: int
    reason: str  # "URI Too Long"
    text: str  # what the client is told, e.g. "its URL is over 16 KB, ..."

    @classmethod
    def url_too_long(cls, limits: ConnectionLimits) -> Refusal:
        kb = limits.max_url_bytes // 1024
        return cls(414, "URI Too Long", f"its URL is over {kb} KB, Cloudflare's limit for a URL")

    @classmethod
    def headers_too_large(cls, limits: ConnectionLimits) -> Refusal:
        kb = limits.max_header_bytes // 1024
        return cls(431, "Request Header Fields Too Large", f"its headers are over {kb} KB, Cloudflare's limit for them")

    @classmethod
    def head_too_slow(cls, limits: ConnectionLimits) -> Refusal:
        return cls(408, "Request Timeout", f"its headers did not arrive within {limits.header_timeout:g} s")

    @classmethod
    def body_stalled(cls, limits: ConnectionLimits) -> Refusal:
        return cls(408, "Request Timeout", f"its body stopped arriving for {limits.header_timeout:g} s")


def refusal_response(refusal: Refusal, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The whole HTTP response for ``refusal``, plain text, closing the connection."""
    body = f"{refusal.status} {refusal.reason}\n\nThe request was refused: {refusal.text}.\n".encode()
    lines = [f"HTTP/1.1 {refusal.status} {refusal.reason}".encode()]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [
        b"content-type: text/plain; charset=utf-8",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
