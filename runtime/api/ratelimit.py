"""The REST API's rate limit, opt-in (``fidelity: {api_rate_limit: true}``; README, "Production fidelity").

"The global rate limit for the Cloudflare API is 1,200 requests per five minute period per user ...
If you exceed this limit, all API calls for the next five minutes will be blocked, receiving a HTTP
429 response." (https://developers.cloudflare.com/fundamentals/api/reference/limits/). The refusal
carries ``retry-after``, "the number of seconds, rounded up, until more capacity is available".

A user is the credential a request authenticated with (every caller is one user while the API is
open), so the users are at most the configured tokens and each keeps at most 1,200 request times.
The window slides on the injected clock. Imports nothing from Starlette: the host builds one at start.
"""

from __future__ import annotations

import hashlib
from collections import deque

from bindings.clock import Clock

__all__ = ["API_BLOCK", "API_LIMIT", "API_WINDOW", "ApiRateLimiter"]

API_LIMIT = 1200
API_WINDOW = 300.0
API_BLOCK = 300.0


class _User:
    __slots__ = ("requests", "blocked_until")

    def __init__(self) -> None:
        self.requests: deque[float] = deque()
        self.blocked_until = 0.0


class ApiRateLimiter:
    """Counts each user's requests; ``enabled`` is the host's setting and may change on reload.

    Args:
        clock: the injected clock the window slides on.
        enabled: whether requests are limited at all.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        enabled: bool = True,
        limit: int = API_LIMIT,
        window: float = API_WINDOW,
        block: float = API_BLOCK,
    ) -> None:
        self.clock = clock
        self.enabled = enabled
        self._limit = limit
        self._window = window
        self._block = block
        self._users: dict[bytes, _User] = {}

    def admit(self, credential: bytes | None) -> float | None:
        """Count a request of the user ``credential`` names; None if it may go on, else seconds to wait."""
        # A digest, so the limiter never holds a secret.
        user_key = b"" if credential is None else hashlib.sha256(credential).digest()
        user = self._users.get(user_key)
        if user is None:
            user = self._users[user_key] = _User()
        now = self.clock.now()
        if now < user.blocked_until:
            return user.blocked_until - now
        requests, horizon = user.requests, now - self._window
        while requests and requests[0] <= horizon:
            requests.popleft()
        if len(requests) >= self._limit:
            user.blocked_until = now + self._block
            requests.clear()
            return self._block
        requests.append(now)
        return None

    def reset(self) -> None:
        """Forget every user's requests and blocks."""
        self._users.clear()
