"""Short codes and link validation for the shortener (a module beside worker.py, imported by it)."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlparse

ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: codes get read aloud and typed
CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
KEY_PREFIX = "link:"


def new_code(length: int = 7) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def key_for(code: str) -> str:
    return KEY_PREFIX + code


def code_of(key: str) -> str:
    return key.removeprefix(KEY_PREFIX)


def check_url(url: object) -> str | None:
    """Why ``url`` cannot be shortened, or None if it can."""
    if not isinstance(url, str):
        return "url must be a string"
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return "url must be an absolute http:// or https:// URL"
    return None


def check_code(code: object) -> str | None:
    if not isinstance(code, str) or not CODE.fullmatch(code):
        return "code must be 1-64 letters, digits, - or _"
    return None
