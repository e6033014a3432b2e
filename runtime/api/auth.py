"""Who may call the REST API: Cloudflare-style credentials checked against configured tokens.

Clients authenticate as they do against Cloudflare (README, "REST API"):

* ``Authorization: Bearer <token>`` (API tokens), or
* ``X-Auth-Email`` + ``X-Auth-Key`` (the legacy global key). The key is checked against the same
  token lists and any email is accepted. When both kinds are sent, email/key wins, as the SDK
  sends them.

Tokens carry Cloudflare's two KV permissions: "Workers KV Storage Write" tokens (``tokens``) may
do everything, "Workers KV Storage Read" tokens (``read_tokens``) may only read. With no tokens
configured the API is open, which is only allowed on a loopback address (``runtime.config.exposure``).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Mapping

from ..config import ApiConfig
from .envelope import CF_AUTH, CF_INVALID_TOKEN, ApiError

__all__ = ["Access", "Authenticator"]

_AUTH_ERROR = "Authentication error"
# The id /user/tokens/verify reports when no tokens are configured and nothing identifies the caller.
_OPEN_TOKEN_ID = "0" * 32


class Access(enum.IntEnum):
    """What a credential allows, in increasing order."""

    NONE = 0
    READ = 1
    WRITE = 2


def _digest(secret: bytes) -> bytes:
    # Comparing fixed-length digests keeps the comparison's time independent of the token's length.
    return hashlib.sha256(secret).digest()


class Authenticator:
    """Checks request credentials against the configured tokens, in constant time."""

    __slots__ = ("enabled", "_digests")

    def __init__(self, auth: ApiConfig) -> None:
        self.enabled = not auth.open
        levels: dict[bytes, Access] = {}
        for token in auth.read_tokens:
            levels[_digest(token.encode())] = Access.READ
        for token in auth.tokens:
            levels[_digest(token.encode())] = Access.WRITE  # listed in both: write wins
        self._digests = tuple(levels.items())

    @staticmethod
    def credential(headers: Mapping[str, str]) -> bytes | None:
        """The secret a request presents: X-Auth-Key (with X-Auth-Email), else a Bearer token."""
        key = headers.get("x-auth-key")
        if key is not None and headers.get("x-auth-email") is not None:
            return key.encode("latin-1")
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip().encode("latin-1")
        return None

    def access(self, secret: bytes | None) -> Access:
        """The permission ``secret`` grants; every token is compared, so timing reveals no match."""
        if secret is None:
            return Access.NONE
        digest = _digest(secret)
        granted = Access.NONE
        for candidate, level in self._digests:
            if hmac.compare_digest(candidate, digest):
                granted = max(granted, level)
        return granted

    def require(self, headers: Mapping[str, str], *, write: bool) -> None:
        """Raise the 401 / 403 envelope error unless the request may read (or write)."""
        if not self.enabled:
            return
        granted = self.access(self.credential(headers))
        if granted is Access.NONE:
            raise ApiError(401, CF_AUTH, _AUTH_ERROR, bare=True)
        if write and granted is not Access.WRITE:
            raise ApiError(403, CF_AUTH, _AUTH_ERROR, bare=True)

    def verify(self, headers: Mapping[str, str]) -> str:
        """The id of the presented token for ``/user/tokens/verify``; 401 if it is not one of ours."""
        if not self.enabled:
            return _OPEN_TOKEN_ID
        secret = self.credential(headers)
        if self.access(secret) is Access.NONE:
            raise ApiError(401, CF_INVALID_TOKEN, "Invalid API Token", bare=True)
        assert secret is not None
        # A stable id that names the token without revealing it.
        return hashlib.sha256(b"workerhost-token-id:" + secret).hexdigest()[:32]
