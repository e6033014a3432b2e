"""Cloudflare's v4 response envelope, the API's error codes, and the mapping from our errors to them.

Every response but a value read is an envelope
(https://developers.cloudflare.com/fundamentals/api/how-to/make-api-calls/)::

    {"success": true,  "errors": [], "messages": [], "result": ...,  "result_info": {...}?}
    {"success": false, "errors": [{"code": N, "message": "..."}], "messages": [], "result": null}

Errors are converted here and only here. A handler (or the binding's service under it) raises;
the endpoint wrapper in ``app.py`` turns the exception into an ``ApiError`` with ``to_api_error``
and names the operation, so messages read ``<operation>: '<inner message>'`` as Cloudflare's do
(``get: 'key not found'``, ``put: 'Invalid expiration of 5. ...'``).

Mapping (status, code):

============================================  ======  =====  ====================================
raised                                        status  code   message
============================================  ======  =====  ====================================
key missing (value, metadata)                 404     10009  ``<op>: 'key not found'``
``NamespaceNotFoundError``                    404     10013  ``<op>: 'namespace not found'``
``NamespaceTitleError`` duplicate             400     10014  the store's text, bare (as seen live)
``NamespaceTitleError`` missing               400     10019  ``request is missing a title definition``
``NamespaceTitleError`` other (too long)      400     10001  ``<op>: '<text>'``
``NamespaceLimitError``                       400     10001  the store's text, bare
``KVError`` with ``.code`` (10029, 10033)     status  .code  ``<op>: '<service message>'``
``KVError`` 10147 (metadata not JSON)         400     10147  ``metadata must be valid json``, bare
``KVError`` without a code                    status  10001  ``<op>: '<service message>'`` (400/413/414)
malformed request (JSON, multipart, query)    400     10001  ``<op>: '<what is wrong>'``
body over its limit (not a value)             413     10001  ``<op>: '<limit text>'``
missing or unknown credentials                401     10000  ``Authentication error``
read-only token on a write                    403     10000  ``Authentication error``
``/user/tokens/verify`` without a valid token 401     1000   ``Invalid API Token``
wrong account id                              400     7003   ``Could not route to <path>, ...`` + 7000
no such route                                 404     7000   ``No route for that URI``
method not allowed                            405     7001   ``Method <M> not available for that URI``
``KVError`` 429 (``rate_limit``: a key's second) 429  10001  ``<op>: 'Too Many Requests'``
over the REST rate limit (``api_rate_limit``) 429     971    ``Please wait and consider throttling ...``, bare
``StorageFullError``                          507     10002  the store's text
``StorageLockedError`` (a file locked too     503     10002  the store's text (nothing was written;
long by another process)                                     a retry later may succeed)
``StorageUnavailableError`` (Redis is away)   503     10002  the store's text
anything else                                 500     10002  ``internal error``
============================================  ======  =====  ====================================

10001 is what Miniflare's local explorer uses for validation failures; 10002 is our choice for
server-side failures (Cloudflare documents no code for them).
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.responses import JSONResponse

from bindings.errors import (
    KVError,
    NamespaceLimitError,
    NamespaceNotFoundError,
    NamespaceTitleError,
    StorageError,
    StorageFullError,
    StorageLockedError,
    StorageUnavailableError,
)

__all__ = [
    "CF_AUTH",
    "CF_RATE_LIMITED",
    "CF_DUPLICATE_TITLE",
    "CF_INTERNAL",
    "CF_INVALID_TOKEN",
    "CF_KEY_NOT_FOUND",
    "CF_METHOD_NOT_ALLOWED",
    "CF_MISSING_TITLE",
    "CF_NAMESPACE_NOT_FOUND",
    "CF_NO_ROUTE",
    "CF_ROUTE",
    "CF_VALIDATION",
    "ApiError",
    "success",
    "to_api_error",
]

CF_RATE_LIMITED = 971
CF_INVALID_TOKEN = 1000
CF_NO_ROUTE = 7000
CF_METHOD_NOT_ALLOWED = 7001
CF_ROUTE = 7003
CF_AUTH = 10000
CF_VALIDATION = 10001
CF_INTERNAL = 10002
CF_KEY_NOT_FOUND = 10009
CF_NAMESPACE_NOT_FOUND = 10013
CF_DUPLICATE_TITLE = 10014
CF_MISSING_TITLE = 10019
CF_INVALID_METADATA = 10147

# Codes whose messages Cloudflare sends without the "<operation>: '...'" wrapper.
_BARE_CODES = frozenset({CF_DUPLICATE_TITLE, CF_MISSING_TITLE, CF_INVALID_METADATA})


class EnvelopeResponse(JSONResponse):
    """JSON that survives what stored data may hold: a lone surrogate (JSON escapes it, and Starlette's
    renderer would fail encoding it to UTF-8; such a body is sent ASCII-escaped), and a number past the
    largest double (a bulk get of a JSON value holding ``1e400``), which is ``null``, as ``JSON.stringify``
    writes it."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
        except ValueError:  # "Out of range float values are not JSON compliant"
            return self.render(_finite(content))


def _finite(value: Any) -> Any:
    """``value`` with every infinite or NaN float replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


class ApiError(Exception):
    """A request refused with an error envelope.

    Args:
        status: the HTTP status.
        code: the Cloudflare error code.
        message: the inner message; the endpoint wrapper prefixes the operation unless ``bare``.
        bare: send ``message`` as it is.
        pointer: a JSON pointer into the request body naming the culprit (``/3`` for a bulk item),
            sent as the error's ``source.pointer`` as Cloudflare's schema allows.
        more: further ``(code, message)`` errors sent after the first.
        headers: response headers, e.g. a 429's ``retry-after``.
    """

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        bare: bool = False,
        pointer: str | None = None,
        more: tuple[tuple[int, str], ...] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.bare = bare or code in _BARE_CODES
        self.pointer = pointer
        self.more = more
        self.headers = headers

    def response(self, operation: str | None = None) -> EnvelopeResponse:
        """The error envelope, with ``operation`` named in the message unless the error is bare."""
        text = self.message if self.bare or operation is None else f"{operation}: '{self.message}'"
        first: dict[str, Any] = {"code": self.code, "message": text}
        if self.pointer is not None:
            first["source"] = {"pointer": self.pointer}
        errors = [first, *({"code": code, "message": message} for code, message in self.more)]
        body = {"success": False, "errors": errors, "messages": [], "result": None}
        return EnvelopeResponse(body, status_code=self.status, headers=self.headers)


def success(result: Any, result_info: dict[str, Any] | None = None) -> EnvelopeResponse:
    """A success envelope around ``result``."""
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return EnvelopeResponse(body)


def to_api_error(exc: Exception) -> ApiError | None:
    """The envelope error for an exception raised by the store or the KV service; None if unknown."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, KVError):
        return ApiError(exc.status, exc.code or CF_VALIDATION, exc.message)
    if isinstance(exc, NamespaceNotFoundError):
        return ApiError(404, CF_NAMESPACE_NOT_FOUND, "namespace not found")
    if isinstance(exc, NamespaceTitleError):
        if exc.duplicate:
            return ApiError(400, CF_DUPLICATE_TITLE, str(exc))
        if exc.missing:
            return ApiError(400, CF_MISSING_TITLE, str(exc))
        return ApiError(400, CF_VALIDATION, str(exc))
    if isinstance(exc, NamespaceLimitError):
        return ApiError(400, CF_VALIDATION, str(exc))
    if isinstance(exc, StorageFullError):
        return ApiError(507, CF_INTERNAL, str(exc), bare=True)
    if isinstance(exc, StorageLockedError | StorageUnavailableError):
        return ApiError(503, CF_INTERNAL, str(exc), bare=True)
    if isinstance(exc, StorageError):
        return ApiError(500, CF_INTERNAL, str(exc), bare=True)
    return None
