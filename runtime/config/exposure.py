"""The one rule about exposure: no open (token-less) REST API beyond this machine.

With no API tokens configured the REST API answers anyone who can reach it, so the host may then
listen only on a loopback address. ``workerhost dev`` checks this before it binds anything.
"""

from __future__ import annotations

import ipaddress

from ..errors import StartupError
from .model import ApiConfig

__all__ = ["check_exposure", "is_loopback"]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def check_exposure(host: str, api: ApiConfig) -> None:
    """Refuse to listen on ``host`` when it is not loopback and ``api`` has no tokens.

    Raises:
        StartupError: saying why and how to fix it.
    """
    if not api.open or is_loopback(host):
        return
    raise StartupError(
        f"refusing to listen on {host}: it is not a loopback address and no API tokens are configured, "
        f"so anyone who can reach it could read and write your KV data. Set {api.tokens_env} "
        "(comma-separated tokens) or listen on 127.0.0.1"
    )
