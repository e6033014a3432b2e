"""The account endpoints the clients call before any KV request.

wrangler without ``CLOUDFLARE_ACCOUNT_ID`` lists ``/accounts`` and ``/memberships`` and picks the
account both name; ``/user/tokens/verify`` is how a token checks itself. They answer with the
one account this API serves.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .context import ApiContext
from .envelope import success

__all__ = ["ACCOUNT_NAME", "list_accounts", "list_memberships", "verify_token"]

ACCOUNT_NAME = "workerhost"


def _one_page(result: list[Any]) -> Response:
    # Paged like Cloudflare's collections, so wrangler's pager stops after this page.
    return success(
        result, {"page": 1, "per_page": 20, "count": len(result), "total_count": len(result), "total_pages": 1}
    )


def _account(api: ApiContext) -> dict[str, Any]:
    return {"id": api.account_id, "name": ACCOUNT_NAME, "type": "standard"}


async def list_accounts(api: ApiContext, request: Request) -> Response:
    """List the accounts the caller can use: ours. Emulates ``accounts-list-accounts``.

    https://developers.cloudflare.com/api/resources/accounts/methods/list/
    """
    return _one_page([_account(api)])


async def list_memberships(api: ApiContext, request: Request) -> Response:
    """List the caller's memberships: one, in our account. Emulates ``user'-s-account-memberships-list-memberships``.

    https://developers.cloudflare.com/api/resources/memberships/methods/list/
    """
    membership = {
        "id": api.account_id,
        "account": {"id": api.account_id, "name": ACCOUNT_NAME},
        "roles": ["Administrator"],
        "status": "accepted",
    }
    return _one_page([membership])


async def verify_token(api: ApiContext, request: Request) -> Response:
    """Report whether the presented token is valid. Emulates ``user-api-tokens-verify-token``.

    https://developers.cloudflare.com/api/resources/user/subresources/tokens/methods/verify/
    With no tokens configured the API is open, and any caller is reported active.
    """
    token_id = api.authenticator.verify(request.headers)
    return success({"id": token_id, "status": "active"})
