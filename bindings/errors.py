"""Errors raised by the KV binding and its storage engines.

    Exception
    ├── KVError                 a KV operation was refused; carries Cloudflare's HTTP status and message
    │   ├── KVTypeError         (also a TypeError) a check workerd makes before any request, e.g. an empty key
    │   └── KVLimitError        the invocation used up its KV operations (README, "Production fidelity")
    └── StorageError            the store could not do what was asked
        ├── NamespaceNotFoundError
        ├── NamespaceTitleError     a title is missing, too long or already taken
        ├── NamespaceLimitError     the account already has the maximum number of namespaces
        ├── StorageFullError        the disk (or the database's page limit) is full; nothing was written
        ├── StorageLockedError      another process held the file's write lock too long; nothing was written
        ├── StorageUnavailableError the store's server cannot be reached (Redis is down); retry later
        └── EncryptionError         the store's encryption refuses: no key or the wrong one, a rekey under way
            └── IntegrityError      an entry is not what this key wrote under this name: it is not returned

KV validation messages are Cloudflare's own (README, "The KV binding"), so a handler sees locally what it
would see in production: ``str(err)`` is ``"KV PUT failed: 413 Metadata length of 1025 exceeds limit
of 1024."`` while ``err.message`` is the bare server message the REST API reuses.
"""

from __future__ import annotations

__all__ = [
    "EncryptionError",
    "IntegrityError",
    "KVError",
    "KVLimitError",
    "KVTypeError",
    "NamespaceLimitError",
    "NamespaceNotFoundError",
    "NamespaceTitleError",
    "StorageError",
    "StorageFullError",
    "StorageLockedError",
    "StorageUnavailableError",
]


class KVError(Exception):
    """A KV operation failed validation or was refused.

    Args:
        status: the HTTP status Cloudflare's KV service answers with (400, 413, 414, ...).
        message: the service's message, e.g. ``"Key names must not be empty"``.
        op: the binding operation (``GET``, ``GET_BULK``, ``PUT``, ``DELETE``); when set, ``str()``
            has workerd's ``KV <op> failed: <status> <message>`` form.
        code: the Cloudflare API error code the REST API reports, where Cloudflare has a specific one
            (10033 for a bad expiration, 10147 for bad metadata JSON).
    """

    def __init__(self, status: int, message: str, op: str | None = None, *, code: int | None = None) -> None:
        self.status = status
        self.message = message
        self.op = op
        self.code = code
        super().__init__(self._text())

    def _text(self) -> str:
        if self.op is None:
            return self.message
        return f"KV {self.op} failed: {self.status} {self.message}"

    def for_op(self, op: str) -> KVError:
        """The same error as the binding reports it for ``op``."""
        return type(self)(self.status, self.message, op, code=self.code)

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only ``code`` is not carried by the default reduce; keep errors picklable for xdist.
        return _rebuild, (type(self), self.status, self.message, self.op, self.code)


def _rebuild(cls: type[KVError], status: int, message: str, op: str | None, code: int | None) -> KVError:
    return cls(status, message, op, code=code)


class KVTypeError(KVError, TypeError):
    """A check that workerd makes in the binding itself, before any request.

    workerd throws these as a JS ``TypeError`` with no ``KV <op> failed`` prefix, so ``str()`` is the
    bare message whatever the operation. Over HTTP they are 400s.
    """

    def _text(self) -> str:
        return self.message


class KVLimitError(KVError):
    """A Worker invocation made more KV operations than production allows (``limits: strict``).

    Production throws a plain ``Error`` whose text names no operation, so ``str()`` is the bare
    message whatever the call. The status is the one a rate limit has over HTTP.
    """

    def _text(self) -> str:
        return self.message


class StorageError(Exception):
    """The store could not carry out an operation."""


class NamespaceNotFoundError(StorageError):
    """No namespace has the given id (any more: a binding's namespace may be deleted under it)."""

    def __init__(self, namespace_id: str) -> None:
        self.namespace_id = namespace_id
        super().__init__(f"namespace {namespace_id!r} not found")

    def as_kv_error(self) -> KVError:
        """The error as the binding reports it: Cloudflare's 404, code 10013, "namespace not found"."""
        return KVError(404, "namespace not found", code=10013)


class NamespaceTitleError(StorageError):
    """A namespace title was refused: missing (``.missing``), taken (``.duplicate``), or too long."""

    def __init__(self, message: str, *, duplicate: bool = False, missing: bool = False) -> None:
        self.duplicate = duplicate
        self.missing = missing
        super().__init__(message)


class NamespaceLimitError(StorageError):
    """The account already holds the maximum number of namespaces."""


class StorageFullError(StorageError):
    """The disk or the database's size limit is full. The write was not applied; earlier data is intact."""


class StorageLockedError(StorageError):
    """Another process held a file's write lock for longer than the store waits. Nothing was written.

    In normal operation writers from several processes queue for a few milliseconds each; this is what
    a lock held open (a ``sqlite3`` shell inside ``BEGIN IMMEDIATE``) costs instead of an endless wait.
    """


class StorageUnavailableError(StorageError):
    """The store's server cannot be reached or did not answer in time (Redis is down or restarting).

    The operation was not acknowledged: a read can be retried; a write may or may not have been
    applied, as with any request that gets no answer. The store recovers by itself once the server is back.
    """


class EncryptionError(StorageError):
    """The store's encryption at rest refuses to go on (README "Encryption at rest"); nothing was read or written.

    ``reason`` says which case, so a caller can add how to fix it: ``"no key"`` (the store is encrypted
    and no key was given), ``"wrong key"``, ``"plain data"`` (a key was given for a store holding
    unencrypted entries), ``"rekeying"`` (a rekey is under way), ``"record"`` (the store's encryption
    record cannot be read), ``"integrity"`` (``IntegrityError``).
    """

    def __init__(self, message: str, reason: str) -> None:
        self.reason = reason
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (str(self), self.reason)


class IntegrityError(EncryptionError):
    """A stored entry failed its check: written under another key name, namespace or encryption key, altered,
    or unencrypted in an encrypted store. It is never returned as the value asked for."""

    def __init__(self, message: str, reason: str = "integrity") -> None:
        super().__init__(message, reason)
