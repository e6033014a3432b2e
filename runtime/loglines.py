"""Request text in log lines: a path or a cron from a request is logged on one line, as it was sent.

uvicorn percent-decodes the path, so ``GET /x%0A[error]%20forged`` would write a second, forged log
line. ``one_line`` percent-encodes control characters (C0, DEL, C1 and the Unicode line and
paragraph separators) back, and leaves everything else, non-ASCII included, as it is.
"""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = ["one_line"]

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with its control characters percent-encoded, so it cannot end or rewrite a log line."""
    if text.isprintable():  # the usual case, checked in C
        return text
    return _CONTROL.sub(lambda match: quote(match.group(), safe=""), text)
