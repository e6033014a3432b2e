"""Static assets, served as Cloudflare serves a worker's ``assets`` directory.

How a request is answered (https://developers.cloudflare.com/workers/static-assets/routing/):

* Before the worker: a GET or HEAD that names a file is answered with it; anything else goes to the
  worker. ``run_worker_first: true`` sends everything to the worker first (it reaches the files with
  ``env.ASSETS.fetch``); a list of patterns (``["/api/*", "!/api/docs/*"]``) sends the matching paths
  to the worker and serves the ``!`` ones from assets only. A worker of assets alone answers
  everything from them.
* ``html_handling`` (default ``auto-trailing-slash``) maps clean URLs to ``.html`` files and
  ``index.html``, redirecting (307) to the canonical form; ``force-trailing-slash``,
  ``drop-trailing-slash`` and ``none`` as documented.
* ``not_found_handling``: ``single-page-application`` answers ``/index.html`` (200) for a path with no
  file, ``404-page`` the nearest ``404.html`` up the path (404). With a worker, they apply to browser
  navigations (``Sec-Fetch-Mode: navigate``), other requests reaching the worker, as Cloudflare does
  from compatibility date 2025-04-01.
* Content types are Cloudflare's (``text/html; charset=utf-8``, ``image/svg+xml``, ...); each file has
  an ``ETag`` (a hash of its bytes) and ``If-None-Match`` gives a 304; ``Cache-Control: public,
  max-age=0, must-revalidate`` unless the request has ``Authorization`` or ``Range``.
* Files are read on each request, so new and changed files are served without a restart.
* A path never leaves the directory: ``..`` and ``.`` segments (encoded or not), backslashes, NUL,
  and symlinks pointing outside are treated as no file at all. ``_headers``, ``_redirects`` and
  ``.assetsignore`` are not served.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ..config.model import AssetsConfig
from ..handlers.workers import Request, Response

__all__ = ["AssetServer", "AssetsBinding", "content_type"]

# Cloudflare's types (the `mime` package wrangler uses; text/* gets "; charset=utf-8").
_TYPES = {
    "html": "text/html",
    "htm": "text/html",
    "css": "text/css",
    "js": "text/javascript",
    "mjs": "text/javascript",
    "cjs": "application/node",
    "json": "application/json",
    "map": "application/json",
    "jsonld": "application/ld+json",
    "webmanifest": "application/manifest+json",
    "txt": "text/plain",
    "csv": "text/csv",
    "md": "text/markdown",
    "markdown": "text/markdown",
    "yaml": "text/yaml",
    "yml": "text/yaml",
    "xml": "application/xml",
    "xhtml": "application/xhtml+xml",
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "ics": "text/calendar",
    "vtt": "text/vtt",
    "jsx": "text/jsx",
    "svg": "image/svg+xml",
    "svgz": "image/svg+xml",
    "png": "image/png",
    "apng": "image/apng",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "jxl": "image/jxl",
    "heic": "image/heic",
    "ico": "image/vnd.microsoft.icon",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "woff": "font/woff",
    "woff2": "font/woff2",
    "ttf": "font/ttf",
    "otf": "font/otf",
    "eot": "application/vnd.ms-fontobject",
    "wasm": "application/wasm",
    "pdf": "application/pdf",
    "rtf": "application/rtf",
    "epub": "application/epub+zip",
    "zip": "application/zip",
    "gz": "application/gzip",
    "tar": "application/x-tar",
    "7z": "application/x-7z-compressed",
    "mp4": "video/mp4",
    "m4v": "video/x-m4v",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "ogv": "video/ogg",
    "ts": "video/mp2t",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "flac": "audio/x-flac",
}
_HIDDEN = frozenset({"_headers", "_redirects", ".assetsignore", "_worker.js", "_routes.json"})
_CACHE_CONTROL = "public, max-age=0, must-revalidate"
_NAVIGATE_FROM = "2025-04-01"  # compatibility date from which navigations prefer assets
_INLINE_BYTES = 64 * 1024  # smaller files are read on the event loop; larger ones on a thread
_CHUNK = 256 * 1024


def content_type(path: str) -> str | None:
    """The Content-Type Cloudflare serves a file under ``path`` with (None: unknown)."""
    found = _TYPES.get(path.rpartition(".")[2].lower()) if "." in path.rpartition("/")[2] else None
    if found is not None and found.startswith("text/"):
        return f"{found}; charset=utf-8"
    return found


@dataclass(frozen=True, slots=True)
class _Intent:
    """What a path resolves to: a file (served with ``status``) or a redirect to ``redirect``."""

    file: Path | None = None
    status: int = 200
    redirect: str | None = None


class AssetServer:
    """Resolves and serves paths from one worker's assets directory."""

    def __init__(self, config: AssetsConfig, *, has_worker: bool, compatibility_date: str | None = None) -> None:
        self.config = config
        self.has_worker = has_worker
        self.root = Path(os.path.realpath(config.directory))
        rule = config.run_worker_first
        self.worker_first = rule is True
        self.worker_patterns = _globs([p for p in rule if not p.startswith("!")]) if isinstance(rule, tuple) else None
        self.asset_patterns = _globs([p[1:] for p in rule if p.startswith("!")]) if isinstance(rule, tuple) else None
        self.navigations = compatibility_date is None or compatibility_date >= _NAVIGATE_FROM
        self._etags: dict[tuple[str, int, int, int], str] = {}

    # --- routing: the assets or the worker --------------------------------------------------------

    async def before_worker(
        self, method: str, raw_path: str, query: str, headers: Mapping[str, str]
    ) -> Response | None:
        """The response for a request that assets answer before the worker; None sends it to the worker."""
        if not self.has_worker:
            return await self.respond(method, raw_path, query, headers, not_found=True)
        if self.asset_patterns is not None and _matches(self.asset_patterns, raw_path):
            return await self.respond(method, raw_path, query, headers, not_found=True)
        if self.worker_first or (self.worker_patterns is not None and _matches(self.worker_patterns, raw_path)):
            return None
        navigation = self.navigations and headers.get("sec-fetch-mode") == "navigate"
        not_found = navigation or self.worker_patterns is not None
        intent = self.intent(_decoded(raw_path), not_found=not_found)
        if intent is None:
            return None
        return await self._answer(intent, method, raw_path, query, headers)

    async def respond(
        self, method: str, raw_path: str, query: str, headers: Mapping[str, str], *, not_found: bool = True
    ) -> Response:
        """What the assets answer for a request (``env.ASSETS.fetch``): a file, a redirect, or a 404."""
        intent = self.intent(_decoded(raw_path), not_found=not_found)
        if intent is None:
            return Response(None, 404)
        return await self._answer(intent, method, raw_path, query, headers)

    # --- resolving a path -------------------------------------------------------------------------

    def file(self, path: str) -> Path | None:
        """The file a decoded path names inside the directory, or None (missing, hidden or outside)."""
        if "\\" in path or "\0" in path or not path.startswith("/"):
            return None
        parts = path.split("/")[1:]
        if any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", ".."):
            return None
        if not parts[-1] or parts[-1] in _HIDDEN:
            return None
        candidate = self.root.joinpath(*parts)
        try:
            real = Path(os.path.realpath(candidate))
            if not real.is_relative_to(self.root) or not real.is_file():
                return None
        except (OSError, ValueError):
            return None
        return real

    def intent(self, path: str, *, not_found: bool, redirects: bool = True) -> _Intent | None:
        """What ``path`` resolves to under the html_handling rule, then the not-found rule (if asked)."""
        handling = self.config.html_handling
        if handling == "none":
            found = self.file(path)
            return _Intent(found) if found is not None else self._not_found(path, not_found)
        return _HtmlRules(self, handling, redirects).resolve(path) or self._not_found(path, not_found)

    def _not_found(self, path: str, enabled: bool) -> _Intent | None:
        if not enabled:
            return None
        if self.config.not_found_handling == "single-page-application":
            index = self.file("/index.html")
            return None if index is None else _Intent(index)
        if self.config.not_found_handling == "404-page":
            folder = path
            while folder:
                folder = folder[: folder.rfind("/")]
                page = self.file(f"{folder}/404.html")
                if page is not None:
                    return _Intent(page, 404)
        return None

    # --- answering --------------------------------------------------------------------------------

    async def _answer(
        self, intent: _Intent, method: str, raw_path: str, query: str, headers: Mapping[str, str]
    ) -> Response:
        if method not in ("GET", "HEAD"):
            return Response(None, 405, headers={"allow": "GET, HEAD"})
        suffix = f"?{query}" if query else ""
        if intent.redirect is not None:
            return Response(None, 307, headers={"location": _encoded(intent.redirect) + suffix})
        canonical = _encoded(_decoded(raw_path))
        if canonical != raw_path and intent.status == 200:
            return Response(None, 307, headers={"location": canonical + suffix})
        assert intent.file is not None
        return await self._file_response(intent, method, headers)

    async def _file_response(self, intent: _Intent, method: str, headers: Mapping[str, str]) -> Response:
        file = intent.file
        assert file is not None
        try:
            stat = file.stat()
            data = file.read_bytes() if stat.st_size <= _INLINE_BYTES else await asyncio.to_thread(file.read_bytes)
        except OSError:
            return Response(None, 404)  # removed since it was found
        etag = self._etag(file, stat, data)
        reply = [("etag", f'"{etag}"')]
        kind = content_type(file.name)
        if kind is not None:
            reply.append(("content-type", kind))
        if "authorization" not in headers and "range" not in headers:
            reply.append(("cache-control", _CACHE_CONTROL))
        if headers.get("if-none-match", "") in (f'"{etag}"', f'W/"{etag}"'):
            return Response(None, 304, headers=reply)
        response = Response(b"" if method == "HEAD" else data, intent.status, headers=reply)
        if method == "HEAD":
            response.raw_headers = [
                (name, str(len(data)).encode() if name == b"content-length" else value)
                for name, value in response.raw_headers
            ]
        return response

    def _etag(self, file: Path, stat: os.stat_result, data: bytes) -> str:
        key = (str(file), stat.st_mtime_ns, stat.st_size, stat.st_ino)
        found = self._etags.get(key)
        if found is None:
            if len(self._etags) > 4096:
                self._etags.clear()
            found = self._etags[key] = hashlib.sha256(data).hexdigest()[:32]
        return found


class _HtmlRules:
    """Clean URLs for ``.html`` files and ``index.html``, with redirects to the canonical path."""

    def __init__(self, server: AssetServer, handling: str, redirects: bool) -> None:
        self.server = server
        self.handling = handling
        self.redirects = redirects

    def exists(self, path: str) -> Path | None:
        return self.server.file(path)

    def serve(self, path: str) -> _Intent | None:
        found = self.exists(path)
        return None if found is None else _Intent(found)

    def redirect(self, file: str, destination: str) -> _Intent | None:
        """A redirect to ``destination`` when it would serve ``file`` (and is not a file of its own)."""
        if not self.redirects or self.exists(destination) is not None:
            return None
        served = self.server.intent(destination, not_found=False, redirects=False)
        target = self.exists(file)
        if served is not None and served.file is not None and target is not None and served.file == target:
            return _Intent(redirect=destination)
        return None

    def first(self, *options: Any) -> _Intent | None:
        for option in options:
            found = option()
            if found is not None:
                return found  # type: ignore[no-any-return]
        return None

    def resolve(self, path: str) -> _Intent | None:
        if self.handling == "auto-trailing-slash":
            return self.auto(path)
        if self.handling == "force-trailing-slash":
            return self.force(path)
        return self.drop(path)

    def auto(self, p: str) -> _Intent | None:
        if p.endswith("/index"):
            found = self.first(
                lambda: self.serve(p),
                lambda: self.redirect(f"{p}.html", p[:-5]),
                lambda: self.redirect(f"{p[:-6]}.html", p[:-6]),
            )
        elif p.endswith("/index.html"):
            found = self.first(lambda: self.redirect(p, p[:-10]), lambda: self.redirect(f"{p[:-11]}.html", p[:-11]))
        elif p.endswith("/"):
            found = self.first(lambda: self.serve(f"{p}index.html"), lambda: self.redirect(f"{p[:-1]}.html", p[:-1]))
        elif p.endswith(".html"):
            found = self.first(
                lambda: self.redirect(p, p[:-5]), lambda: self.redirect(f"{p[:-5]}/index.html", f"{p[:-5]}/")
            )
        else:
            found = None
        return found or self.first(
            lambda: self.serve(p), lambda: self.serve(f"{p}.html"), lambda: self.redirect(f"{p}/index.html", f"{p}/")
        )

    def force(self, p: str) -> _Intent | None:
        if p.endswith("/index"):
            found = self.first(
                lambda: self.serve(p),
                lambda: self.redirect(f"{p}.html", p[:-5]),
                lambda: self.redirect(f"{p[:-6]}.html", p[:-5]),
            )
        elif p.endswith("/index.html"):
            found = self.first(lambda: self.redirect(p, p[:-10]), lambda: self.redirect(f"{p[:-11]}.html", p[:-10]))
        elif p.endswith("/"):
            found = self.first(lambda: self.serve(f"{p}index.html"), lambda: self.serve(f"{p[:-1]}.html"))
        elif p.endswith(".html"):
            found = self.first(
                lambda: self.redirect(p, f"{p[:-5]}/"),
                lambda: self.serve(p),
                lambda: self.redirect(f"{p[:-5]}/index.html", f"{p[:-5]}/"),
            )
        else:
            found = None
        return found or self.first(
            lambda: self.serve(p),
            lambda: self.redirect(f"{p}.html", f"{p}/"),
            lambda: self.redirect(f"{p}/index.html", f"{p}/"),
        )

    def drop(self, p: str) -> _Intent | None:
        found: _Intent | None = None
        if p.endswith("/index"):
            if p == "/index":
                found = self.first(lambda: self.serve(p), lambda: self.redirect("/index.html", "/"))
            else:
                found = self.first(
                    lambda: self.serve(p),
                    lambda: self.redirect(f"{p[:-6]}.html", p[:-6]),
                    lambda: self.redirect(f"{p}.html", p[:-6]),
                )
        elif p.endswith("/index.html"):
            if p == "/index.html":
                found = self.redirect("/index.html", "/")
            else:
                found = self.first(
                    lambda: self.redirect(p, p[:-11]),
                    lambda: self.serve(p),
                    lambda: self.redirect(f"{p[:-11]}.html", p[:-11]),
                )
        elif p.endswith("/"):
            if p == "/":
                found = self.serve("/index.html")
            else:
                found = self.first(
                    lambda: self.redirect(f"{p[:-1]}.html", p[:-1]),
                    lambda: self.redirect(f"{p[:-1]}/index.html", p[:-1]),
                )
        elif p.endswith(".html"):
            found = self.first(lambda: self.redirect(p, p[:-5]), lambda: self.redirect(f"{p[:-5]}/index.html", p[:-5]))
        return found or self.first(
            lambda: self.serve(p), lambda: self.serve(f"{p}.html"), lambda: self.serve(f"{p}/index.html")
        )


def _decoded(path: str) -> str:
    """Each segment percent-decoded (a bad escape left as it is), repeated slashes collapsed."""
    segments = [unquote(segment, errors="strict") if _decodable(segment) else segment for segment in path.split("/")]
    return re.sub(r"/+", "/", "/".join(segments))


def _decodable(segment: str) -> bool:
    try:
        unquote(segment, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def _encoded(path: str) -> str:
    return "/".join(quote(segment, safe="!'()*-._~") for segment in path.split("/"))


def _globs(patterns: list[str]) -> list[re.Pattern[str]]:
    return [re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$") for pattern in patterns]


def _matches(patterns: list[re.Pattern[str]], path: str) -> bool:
    return any(pattern.match(path) for pattern in patterns)


class AssetsBinding:
    """``env.ASSETS``: ``await env.ASSETS.fetch(request_or_url)`` answers from the assets, as on Cloudflare."""

    __slots__ = ("_server",)

    def __init__(self, server: AssetServer) -> None:
        self._server = server

    async def fetch(self, request: Any, **options: Any) -> Response:
        """The asset response for a request (or a URL, or a path); not-found handling applies."""
        if isinstance(request, str):
            url, method, headers = request, str(options.get("method", "GET")).upper(), {}
        else:
            built = request if isinstance(request, Request) else Request(request)
            url, method = built.url, built.method
            headers = {name: value for name, value in built.headers.items()}
        parts = urlsplit(url)
        raw_path = parts.path or "/"
        return await self._server.respond(method, raw_path, parts.query, headers)

    def __repr__(self) -> str:
        return f"<assets binding: {self._server.config.directory_display}>"
