"""The rules of the namespace catalog, which every storage engine applies the same way.

An account holds at most ``MAX_NAMESPACES`` namespaces. Each has an id of 32 lowercase hex digits
(a uuid4 without dashes, as Cloudflare's ids look) and a unique, non-blank title of at most
``MAX_TITLE_LENGTH`` characters. The refusals carry Cloudflare's texts where Cloudflare has one, so
the REST API can pass them on as they are
(https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/create/).

An engine stores the catalog; this module says what may go in it. Only an id that passes
``is_namespace_id`` may ever become part of a file name or a storage key.
"""

from __future__ import annotations

import re
import uuid
from typing import TypeGuard

from .errors import NamespaceLimitError, NamespaceTitleError, StorageError

__all__ = [
    "MAX_NAMESPACES",
    "MAX_TITLE_LENGTH",
    "check_namespace_count",
    "check_namespace_id",
    "check_title",
    "duplicate_id",
    "duplicate_title",
    "is_namespace_id",
    "new_namespace_id",
]

MAX_NAMESPACES = 1000
MAX_TITLE_LENGTH = 512

_NAMESPACE_ID = re.compile(r"[0-9a-f]{32}")
_DUPLICATE_TITLE = "a namespace with this account ID and title already exists"
_MISSING_TITLE = "request is missing a title definition"


def new_namespace_id() -> str:
    """A fresh random namespace id."""
    return uuid.uuid4().hex


def is_namespace_id(value: object) -> TypeGuard[str]:
    """True for a string of 32 lowercase hex digits: the only ids a namespace can have."""
    return isinstance(value, str) and _NAMESPACE_ID.fullmatch(value) is not None


def check_namespace_id(namespace_id: object) -> str:
    """An id asked for by the caller (``create_namespace(title, id)``); raises ``StorageError`` if malformed."""
    if not is_namespace_id(namespace_id):
        raise StorageError(f"namespace id must be 32 lowercase hex digits, got {namespace_id!r}")
    return namespace_id


def check_title(title: object) -> str:
    """A title for a new or renamed namespace; ``NamespaceTitleError`` if missing, blank, too long or not Unicode.

    That it is unique is the engine's to check, atomically with the write (``duplicate_title``).
    """
    if not isinstance(title, str) or not title.strip():
        raise NamespaceTitleError(_MISSING_TITLE, missing=True)
    if len(title) > MAX_TITLE_LENGTH:
        raise NamespaceTitleError(f"title must be at most {MAX_TITLE_LENGTH} characters, got {len(title)}")
    if not title.isascii():
        try:
            title.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800" in JSON, a non-UTF-8 argv byte) has no stored form
            raise NamespaceTitleError("title is not valid Unicode (it has a lone surrogate)") from None
    return title


def check_namespace_count(existing: int) -> None:
    """Room for one more namespace beside ``existing`` ones; raises ``NamespaceLimitError`` if there is none."""
    if existing >= MAX_NAMESPACES:
        raise NamespaceLimitError(f"an account may have at most {MAX_NAMESPACES} namespaces")


def duplicate_title() -> NamespaceTitleError:
    """The error for a title another namespace already has."""
    return NamespaceTitleError(_DUPLICATE_TITLE, duplicate=True)


def duplicate_id(namespace_id: str) -> StorageError:
    """The error for creating a namespace with an id that is already taken."""
    return StorageError(f"a namespace with id {namespace_id} already exists")
