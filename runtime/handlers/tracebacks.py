"""Tracebacks as a handler's author wants them: their frames only, with secret values blanked."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType

__all__ = ["format_user_stack", "format_user_traceback"]

_RUNTIME_DIR = str(Path(__file__).resolve().parent)


def _hidden(filename: str) -> bool:
    # The host's own frames and importlib's machinery say nothing about the user's bug.
    return filename.startswith("<frozen ") or filename.startswith(_RUNTIME_DIR)


def _trim(exc: traceback.TracebackException, seen: set[int]) -> None:
    if id(exc) in seen:
        return
    seen.add(id(exc))
    frames = [frame for frame in exc.stack if not _hidden(frame.filename)]
    exc.stack = traceback.StackSummary.from_list(frames)
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            _trim(linked, seen)


def format_user_traceback(exc: BaseException, redact: Callable[[str], str] | None = None) -> str:
    """The traceback of ``exc`` without the host's frames, passed through ``redact`` if given."""
    summary = traceback.TracebackException.from_exception(exc)
    _trim(summary, set())
    text = "".join(summary.format())
    return redact(text) if redact is not None else text


def format_user_stack(frame: FrameType | None) -> str:
    """Where a thread running a script's code is now (``frame``: its innermost), as a traceback shows it.

    Only the frames the host's call into the script led to are shown, importlib's machinery left out.
    """
    frames: list[FrameType] = []
    while frame is not None and not frame.f_code.co_filename.startswith(_RUNTIME_DIR):
        frames.append(frame)
        frame = frame.f_back
    shown = [(frame, frame.f_lineno) for frame in reversed(frames) if not _hidden(frame.f_code.co_filename)]
    return "".join(traceback.StackSummary.extract(iter(shown)).format())
