"""Secrets from ``.dev.vars`` and ``.env`` files, found and read as ``wrangler dev`` reads them.

Beside the config file (README "Bring a Cloudflare project"):

* ``.dev.vars.<env>`` (with ``--env``), else ``.dev.vars``: one file, taken literally;
* only when neither exists: ``.env``, ``.env.local``, ``.env.<env>``, ``.env.<env>.local``, each
  overriding the ones before, then ``${VAR}`` (and ``$VAR``, ``${VAR:-default}``) expanded from the
  values already read, as wrangler's dotenv-expand does; with ``CLOUDFLARE_INCLUDE_PROCESS_ENV=true``
  the process environment is read too, and ``CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV=false`` turns
  ``.env`` files off.

The syntax is dotenv's (python-dotenv parses it): ``export``, comments, single and double quotes,
escapes in double quotes and values spanning lines. An error names the file and line, never the
line's text, which may hold a secret.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path

from ..errors import ConfigError
from .secrets import DEV_VARS_FILE, Secrets

__all__ = ["FileSecrets", "read_dev_vars", "read_secrets", "secret_files"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFERENCE = re.compile(r"(?<!\\)\$\{([^{}]+)\}|(?<!\\)\$([A-Za-z_][A-Za-z0-9_]*)")
_FALSE = ("false", "0", "no", "off")


class FileSecrets(Secrets):
    """Secrets with the file each one came from, for messages that point at it."""

    __slots__ = ("files",)

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        lines: Mapping[str, int] | None = None,
        source: str = DEV_VARS_FILE,
        files: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(values, lines, source)
        self.files = dict(files or {})

    def where(self, name: str) -> str:
        """``file:line`` of the secret called ``name``."""
        return f"{self.files.get(name, self.source)}:{self.lines.get(name, 0)}"


def secret_files(folder: Path, env: str | None) -> tuple[Path, ...]:
    """Every file that may hold secrets for ``env``, in the order wrangler considers them."""
    names = [f"{DEV_VARS_FILE}.{env}"] if env else []
    names += [DEV_VARS_FILE, ".env", ".env.local"]
    if env:
        names += [f".env.{env}", f".env.{env}.local"]
    return tuple(folder / name for name in names)


def _display(base: str, name: str) -> str:
    parent = base.rpartition("/")[0]
    return f"{parent}/{name}" if parent else name


def read_secrets(folder: Path, env: str | None, environ: Mapping[str, str], display_base: str = "") -> FileSecrets:
    """The secrets for ``env`` from the files beside the config in ``folder`` (see the module docstring).

    Args:
        display_base: the config file as the user named it; files are named beside it in messages.
    """
    candidates = [f"{DEV_VARS_FILE}.{env}"] if env else []
    for name in [*candidates, DEV_VARS_FILE]:
        text = _read(folder / name, _display(display_base, name))
        if text is not None:
            return _from_files([(_display(display_base, name), text)], expand=False, base={})
    if environ.get("CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV", "true").strip().lower() in _FALSE:
        return FileSecrets(source=_display(display_base, DEV_VARS_FILE))
    names = [".env", ".env.local"] + ([f".env.{env}", f".env.{env}.local"] if env else [])
    found = []
    for name in names:
        text = _read(folder / name, _display(display_base, name))
        if text is not None:
            found.append((_display(display_base, name), text))
    include_process = environ.get("CLOUDFLARE_INCLUDE_PROCESS_ENV", "").strip().lower() == "true"
    if not found and not include_process:
        return FileSecrets(source=_display(display_base, DEV_VARS_FILE))
    secrets = _from_files(found, expand=True, base=dict(environ) if include_process else {})
    if include_process:  # as wrangler does: the whole environment becomes secrets, the files on top
        values = {**environ, **secrets}
        files = {name: secrets.files.get(name, "the process environment") for name in values}
        return FileSecrets(values, secrets.lines, secrets.source or "the process environment", files)
    return secrets


def read_dev_vars(path: Path, display: str) -> FileSecrets:
    """One dotenv file read literally (``.dev.vars``); a missing file means no secrets."""
    text = _read(path, display)
    return FileSecrets(source=display) if text is None else _from_files([(display, text)], expand=False, base={})


def _read(path: Path, display: str) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{display}: cannot be read: {exc.__class__.__name__}") from None


def _parse(display: str, text: str) -> list[tuple[str, str, int]]:
    from dotenv.parser import parse_stream  # imported only when a file exists: it costs start-up time

    found = []
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        # The line's text is never quoted back: it may hold a secret.
        if binding.error:
            raise ConfigError(f"{display}:{line}: this line is not NAME=value dotenv syntax (check its quotes)")
        if binding.key is None:
            continue  # a blank line or a comment
        if binding.value is None:
            raise ConfigError(f"{display}:{line}: expected NAME=value, but the line has no '='")
        if not _NAME.fullmatch(binding.key):
            raise ConfigError(
                f"{display}:{line}: {binding.key!r} is not a variable name; expected letters, digits and _"
            )
        found.append((binding.key, binding.value, line))
    return found


def _from_files(files: list[tuple[str, str]], *, expand: bool, base: Mapping[str, str]) -> FileSecrets:
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    origins: dict[str, str] = {}
    for display, text in files:
        for name, value, line in _parse(display, text):
            values[name] = value
            lines[name] = line
            origins[name] = display
    if expand:
        values = _expand(values, base)
    source = ", ".join(display for display, _ in files)
    return FileSecrets(values, lines, source, origins)


def _expand(parsed: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    # As wrangler's dotenv-expand does: a name the environment holds keeps the environment's value;
    # references resolve against the values expanded so far and the environment; \$ is a literal $.
    done: dict[str, str] = dict(environ)
    result: dict[str, str] = {}
    for name, value in parsed.items():
        if environ.get(name) and environ[name] != value:
            expanded = environ[name]
        else:
            expanded = _REFERENCE.sub(lambda match: _resolve(match, done), value)
        result[name] = done[name] = expanded.replace("\\$", "$")
    return result


def _resolve(match: re.Match[str], known: Mapping[str, str]) -> str:
    braced, bare = match.groups()
    if bare is not None:
        return known.get(bare) or ""
    for operator in (":+", "+", ":-", "-"):
        name, found, default = braced.partition(operator)
        if found:
            if operator in (":+", "+"):
                return default if known.get(name) else ""
            return known.get(name) or default
    return known.get(braced) or ""
