"""Which requests made by web browsers the host's own surfaces accept (README "Dashboard", "Browsers").

The REST API, the dashboard and the dev routes read and write KV data and run scheduled handlers,
so a web page from anywhere else must not drive them through the user's browser:

* **CSRF.** A page on another origin can make the browser send requests here (a form, an image, a
  ``fetch`` in ``no-cors`` mode) even though it cannot read the answers. Browsers say where a
  request comes from: ``Origin`` on every cross-origin request but simple GETs (and on same-origin
  writes), ``Sec-Fetch-Site`` on every request to a loopback or HTTPS origin. A request whose
  ``Origin`` is not the host's own, or whose ``Sec-Fetch-Site`` is ``cross-site`` or ``same-site``
  (another port of localhost is same-site), is refused. The one exception is a top-level
  navigation (``Sec-Fetch-Mode: navigate``) to the dashboard's page, which changes nothing: a link
  to the dashboard works from anywhere, and every request that page then makes is same-origin.
* **DNS rebinding.** A page on ``evil.example`` whose name its owner points at 127.0.0.1 after
  it loads is *same-origin* with itself, and browsers send no ``Sec-Fetch-*`` headers to plain
  HTTP names. What gives it away is ``Host: evil.example``. While no API tokens are configured
  (the host then listens on loopback only), ``Host`` must be a loopback name or address
  (``localhost``, ``*.localhost``, ``127.0.0.0/8``, ``[::1]``) or the configured ``--host``.
  With tokens the host may be reached by any name it is served under, and the token is the
  defence: a page cannot make a browser attach an ``Authorization`` header of its own choosing,
  and sessionStorage (where the dashboard keeps the token) belongs to one origin.

Clients that are not browsers (wrangler, the SDK, curl) send neither header and a loopback
``Host``, and pass. Worker routes are the user's application and are never checked here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from .envelope import CF_AUTH, ApiError

__all__ = ["BrowserPolicy", "is_loopback_name"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SAFE_SITES = frozenset({"same-origin", "none"})
_SHOWN = 100  # characters of a hostile header quoted in a refusal


def is_loopback_name(host: str) -> bool:
    """True for ``localhost``, ``*.localhost`` and loopback addresses (IPv4-mapped ones too).

    Browsers resolve ``localhost`` and its subdomains to loopback themselves (RFC 6761), so no DNS
    owner can point them elsewhere.
    """
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _split_authority(authority: str) -> tuple[str, int | None]:
    """``host[:port]`` as (lower-case host without brackets, port or None); ValueError if malformed."""
    text = authority.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end == -1:
            raise ValueError(authority)
        host, rest = text[1:end], text[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else None
        if rest and port_text is None:
            raise ValueError(authority)
    else:
        host, colon, port_text_or_empty = text.rpartition(":")
        if not colon:
            host, port_text = text, None
        else:
            port_text = port_text_or_empty
    if port_text is not None and not (port_text.isascii() and port_text.isdigit() and len(port_text) <= 5):
        raise ValueError(authority)
    if not host:
        raise ValueError(authority)
    return host, None if not port_text else int(port_text)


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


class BrowserPolicy:
    """Decides whether a request to the host's own routes may be served (see the module docstring).

    Args:
        check_host: check ``Host`` while no tokens are configured; on when the app is served on a
            socket (``workerhost dev``). An app driven in-process has no socket a rebinding page
            could reach.
        configured_host: the address ``--host`` names, accepted as ``Host`` besides loopback names.
    """

    __slots__ = ("check_host", "configured_host")

    def __init__(self, *, check_host: bool, configured_host: str | None = None) -> None:
        self.check_host = check_host
        self.configured_host = None if configured_host is None else configured_host.lower().strip("[]")

    def refusal(self, headers: Mapping[str, str], *, tokens: bool, page: bool = False) -> ApiError | None:
        """The 403 to answer, or None to serve the request.

        Args:
            headers: the request's headers (lower-case names).
            tokens: whether API tokens are configured (then ``Host`` is not checked).
            page: the request is a GET of the dashboard's page, which a navigation from anywhere may open.
        """
        host = headers.get("host")
        if host is not None and self.check_host and not tokens:
            problem = self._host_problem(host)
            if problem is not None:
                return _forbidden(problem)
        origin = headers.get("origin")
        if origin is not None:
            problem = _origin_problem(origin, host)
            if problem is not None:
                return _forbidden(problem)
        site = headers.get("sec-fetch-site")
        if site is not None and site.lower() not in _SAFE_SITES:
            if not (page and headers.get("sec-fetch-mode", "").lower() == "navigate"):
                return _forbidden(
                    f"a {_shown(site)} request (Sec-Fetch-Site) from another web page was refused: the dashboard, "
                    "the REST API and the dev routes answer only their own pages and clients that are not browsers"
                )
        return None

    def _host_problem(self, host: str) -> str | None:
        try:
            name, _ = _split_authority(host)
        except ValueError:
            return f'Host "{_shown(host)}" is not a valid host name'
        if is_loopback_name(name) or name == self.configured_host:
            return None
        return (
            f'Host "{_shown(host)}" is not a loopback name: without API tokens the host answers only '
            "http://127.0.0.1, http://localhost or [::1] (a page on another name reaching it is DNS rebinding); "
            "configure API tokens to serve it under other names"
        )


def _origin_problem(origin: str, host: str | None) -> str | None:
    refused = (
        f'a request from the web page at "{_shown(origin)}" was refused: the dashboard, the REST API and the '
        "dev routes answer only their own origin"
    )
    if host is None:
        return refused
    try:
        parts = urlsplit(origin.strip())
        origin_host, origin_port = parts.hostname, parts.port
        scheme = parts.scheme.lower()
        request_host, request_port = _split_authority(host)
    except ValueError:
        return refused
    if origin_host is None or scheme not in _DEFAULT_PORTS or parts.path or parts.query:
        return refused  # "null" (a sandboxed frame, a file), or not an origin at all
    default = _DEFAULT_PORTS[scheme]
    same = origin_host == request_host and (origin_port or default) == (request_port or default)
    return None if same else refused


def _forbidden(message: str) -> ApiError:
    return ApiError(403, CF_AUTH, message, bare=True)
