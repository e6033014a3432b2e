"""The REST API's paths, below ``/client/v4``: one definition for the route table and the OpenAPI document."""

from __future__ import annotations

__all__ = ["NAMESPACE", "NAMESPACES"]

# https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/
NAMESPACES = "/accounts/{account_id}/storage/kv/namespaces"
NAMESPACE = NAMESPACES + "/{namespace_id}"
