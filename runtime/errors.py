"""Errors raised by the host, drawn as a tree.

    Exception
    └── WorkerhostError             anything the CLI reports as one line and exit status 1
        ├── ConfigError             kv.yaml or .dev.vars is invalid; the message starts "file:line: key.path"
        ├── HandlerLoadError        a handler script failed to import or has no usable entrypoint
        ├── StartupError            the server refuses to start (port taken, open API on a public address)
        └── UsageError              a ``workerhost kv`` command cannot do what was asked: bad input, unknown namespace

Errors raised *by handlers* are not here: the host turns them into a 500 and keeps serving.
``HANDLER_FAILURES`` says which: everything but cancellation.
"""

from __future__ import annotations

__all__ = ["HANDLER_FAILURES", "ConfigError", "HandlerLoadError", "StartupError", "UsageError", "WorkerhostError"]

# What handler code (a fetch, its wait_until work, a scheduled run, a script's import) may raise for
# the host to report and survive. SystemExit and KeyboardInterrupt are among them: under ``workerhost
# dev`` signals arrive through the event loop, so inside handler code they come from the script itself
# (``sys.exit()``, ``exit()``), and left alone they would stop the event loop, and the host with it.
HANDLER_FAILURES: tuple[type[BaseException], ...] = (Exception, SystemExit, KeyboardInterrupt)


class WorkerhostError(Exception):
    """Base of the host's own errors; ``str(err)`` is the whole message a user needs."""


class ConfigError(WorkerhostError):
    """The config is invalid, e.g. ``kv.yaml:12: workers[0].kv_namespaces[1].binding must be a string, got 3``."""


class HandlerLoadError(WorkerhostError):
    """A handler script could not be loaded, e.g. ``worker.py defines no async "fetch(request, env, ctx)"``."""


class StartupError(WorkerhostError):
    """The server cannot or will not start as configured."""


class UsageError(WorkerhostError):
    """A ``workerhost kv`` command was refused and nothing was changed, e.g. ``no namespace has the title "x"``."""
