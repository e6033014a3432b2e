"""Running one ``workerhost kv`` command: open the session, run it, close the store, map errors.

A command either finishes or changes nothing and raises; here every failure becomes a
``UsageError``, which ``workerhost`` prints as one line (``workerhost: error: ...``) with exit
status 1. KV refusals keep workerd's form, ``KV <OP> failed: <status> <message>``, so they read as
they would from a handler.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable, Callable

from bindings.errors import EncryptionError, KVError, StorageError

from ...config.encryption import explain
from ...errors import UsageError
from .session import Session

__all__ = ["refused", "run_command"]

Command = Callable[[Session, argparse.Namespace], Awaitable[int]]


def refused(exc: KVError, op: str, where: str = "") -> UsageError:
    """A KV refusal as the CLI reports it: ``[where: ]KV <op> failed: <status> <message>``."""
    return UsageError(f"{where}{exc.for_op(op)}")


async def _run(command: Command, args: argparse.Namespace, check_key: bool) -> int:
    session = Session.from_args(args)
    try:
        if check_key:
            await session.check_key()
        return await command(session, args)
    finally:
        await session.close()


def run_command(module: str, name: str, args: argparse.Namespace, *, check_key: bool = True) -> int:
    """Run ``runtime.cli.kv.<module>.<name>(session, args)``; returns the exit status.

    The store is checked against the encryption key first (``Session.check_key``) unless ``check_key`` is
    False: ``rekey`` works on stores every other command refuses.
    """
    if getattr(args, "remote", False):
        raise UsageError(
            "--remote: workerhost kv works on local data only. For Cloudflare's KV, run wrangler itself "
            "(npx wrangler kv ... --remote); wrangler also works against this host's REST API with "
            'CLOUDFLARE_API_BASE_URL=http://127.0.0.1:8787/client/v4 (README "REST API")'
        )
    command: Command = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    try:
        return asyncio.run(_run(command, args, check_key))
    except KVError as exc:
        raise UsageError(str(exc)) from None
    except EncryptionError as exc:
        raise UsageError(explain(exc)) from None
    except StorageError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        # Ctrl-C: transactions already committed stay (a large import or bulk file may be part-written).
        print("workerhost: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
