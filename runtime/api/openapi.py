"""The OpenAPI 3 document of the REST API, served at ``/client/v4/openapi.json``.

Hand-maintained beside the route table in ``app.py``; ``tests/runtime/api/test_openapi.py`` checks
that the two name the same paths and methods. Schemas follow Cloudflare's (the ``workers-kv``
tag of its OpenAPI schema) where ours behave the same, and say what ours do where they differ:
every error is the failure envelope, and a value read is raw bytes.
"""

from __future__ import annotations

from typing import Any

from bindings.catalog import MAX_TITLE_LENGTH
from bindings.limits import MAX_BULK_GET_KEYS, MAX_BULK_WRITE_PAIRS, MAX_KEY_BYTES

from .paths import NAMESPACE, NAMESPACES

__all__ = ["openapi_document"]

Schema = dict[str, Any]

_REF = "#/components/schemas/"

_ERRORS = {
    400: "The request is malformed, fails a KV limit, or names another account (7003).",
    401: "No credentials, or unknown ones (10000), when tokens are configured.",
    403: "A read-only token was used for a write (10000).",
    404: "The namespace (10013) or key (10009) does not exist, or no route matches the path (7000).",
    413: "A value, metadata or request body is over its limit.",
    414: "A key or prefix is longer than 512 bytes.",
    429: "With production-fidelity modes on: over the REST rate limit (971), or a key written within the last "
    "second (10001).",
}


def _ref(name: str) -> Schema:
    return {"$ref": _REF + name}


def _string(**extra: Any) -> Schema:
    return {"type": "string", **extra}


def _integer(**extra: Any) -> Schema:
    return {"type": "integer", **extra}


def _object(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _envelope(result: Schema, result_info: Schema | None = None) -> Schema:
    properties: dict[str, Schema] = {
        "success": {"type": "boolean", "enum": [True]},
        "errors": {"type": "array", "items": _ref("Message"), "maxItems": 0},
        "messages": {"type": "array", "items": _ref("Message")},
        "result": result,
    }
    if result_info is not None:
        properties["result_info"] = result_info
    return _object(properties, ("success", "errors", "messages", "result"))


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _responses(ok: Schema, *errors: int) -> dict[str, Schema]:
    responses = {"200": ok}
    responses.update({str(status): {"$ref": f"#/components/responses/E{status}"} for status in errors})
    return responses


def _operation(
    operation_id: str, summary: str, ok: Schema, errors: tuple[int, ...], *, throttled: bool = True, **extra: Any
) -> Schema:
    # Every call with credentials counts against the REST rate limit when it is on.
    statuses = (*errors, 429) if throttled else errors
    return {"operationId": operation_id, "summary": summary, "responses": _responses(ok, *statuses), **extra}


def _param(name: str, where: str, schema: Schema, description: str = "", required: bool = False) -> Schema:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema,
        **({"description": description} if description else {}),
    }


# Defined per document: the one account id the API answers to (any other is a 400 routing error).
_ACCOUNT = {"$ref": "#/components/parameters/account_id"}
_NAMESPACE = _param("namespace_id", "path", _string(maxLength=32), "A namespace id: 32 hex digits.")
_KEY = _param(
    "key_name", "path", _string(minLength=1), f"A key, percent-encoded; at most {MAX_KEY_BYTES} bytes of UTF-8."
)
_TITLE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": _object({"title": _string(minLength=1, maxLength=MAX_TITLE_LENGTH, pattern=r"\S")}, ("title",))
        }
    },
}
_READ_ERRORS = (400, 401, 404)
_WRITE_ERRORS = (400, 401, 403, 404, 413)
_KEY_READ_ERRORS = (400, 401, 404, 414)
_KEY_WRITE_ERRORS = (400, 401, 403, 404, 413, 414)


def _result(schema: Schema, description: str, result_info: Schema | None = None) -> Schema:
    return _json(_envelope(schema, result_info), description)


_EMPTY = _result({"type": "object", "nullable": True}, "Done.")
_BULK_RESULT = _result(_ref("BulkResult"), "Every key was written or deleted.")


def _namespace_paths() -> dict[str, Schema]:
    page_info = _object({name: _integer() for name in ("page", "per_page", "count", "total_count", "total_pages")})
    list_params = [
        _param("page", "query", _integer(minimum=1, maximum=2**31 - 1, default=1)),
        _param("per_page", "query", _integer(minimum=1, maximum=1000, default=20)),
        _param("order", "query", _string(enum=["id", "title"], default="id")),
        _param("direction", "query", _string(enum=["asc", "desc"], default="asc")),
    ]
    namespace = _result(_ref("Namespace"), "The namespace.")
    return {
        NAMESPACES: {
            "parameters": [_ACCOUNT],
            "get": _operation(
                "workers-kv-namespace-list-namespaces",
                "List namespaces",
                _result({"type": "array", "items": _ref("Namespace")}, "A page of namespaces.", page_info),
                (400, 401, 404),
                parameters=list_params,
            ),
            "post": _operation(
                "workers-kv-namespace-create-a-namespace",
                "Create a namespace",
                namespace,
                (400, 401, 403, 404, 413),
                requestBody=_TITLE_BODY,
            ),
        },
        NAMESPACE: {
            "parameters": [_ACCOUNT, _NAMESPACE],
            "get": _operation("workers-kv-namespace-get-a-namespace", "Get a namespace", namespace, _READ_ERRORS),
            "put": _operation(
                "workers-kv-namespace-rename-a-namespace",
                "Rename a namespace",
                namespace,
                _WRITE_ERRORS,
                requestBody=_TITLE_BODY,
            ),
            "delete": _operation(
                "workers-kv-namespace-remove-a-namespace", "Delete a namespace", _EMPTY, (400, 401, 403, 404)
            ),
        },
    }


def _key_paths() -> dict[str, Schema]:
    list_params = [
        _param("limit", "query", _integer(minimum=10, maximum=1000, default=1000)),
        _param("prefix", "query", _string()),
        _param("cursor", "query", _string(), "The previous page's result_info.cursor."),
    ]
    raw_value = {
        "description": "The value's bytes, without an envelope.",
        "headers": {
            "expiration": {"description": "When the key expires (seconds since the epoch).", "schema": _integer()}
        },
        "content": {"application/octet-stream": {"schema": _string(format="binary")}},
    }
    put_params = [
        _param("expiration", "query", {"type": "number"}, "Expire at this time (seconds since the epoch)."),
        _param("expiration_ttl", "query", {"type": "number", "minimum": 60}, "Expire after this many seconds."),
    ]
    form = _object({"value": _string(format="binary"), "metadata": {}}, ("value",))
    put_body = {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": _string(format="binary")},
            "multipart/form-data": {"schema": form, "encoding": {"metadata": {"contentType": "application/json"}}},
        },
    }
    return {
        NAMESPACE + "/keys": {
            "parameters": [_ACCOUNT, _NAMESPACE],
            "get": _operation(
                "workers-kv-namespace-list-a-namespace'-s-keys",
                "List keys",
                _result(
                    {"type": "array", "items": _ref("Key")},
                    "A page of keys.",
                    _object({"count": _integer(), "cursor": _string()}),
                ),
                _KEY_READ_ERRORS,
                parameters=list_params,
            ),
        },
        NAMESPACE + "/values/{key_name}": {
            "parameters": [_ACCOUNT, _NAMESPACE, _KEY],
            "get": _operation("workers-kv-namespace-read-key-value-pair", "Read a value", raw_value, _KEY_READ_ERRORS),
            "put": _operation(
                "workers-kv-namespace-write-key-value-pair-with-metadata",
                "Write a value",
                _EMPTY,
                _KEY_WRITE_ERRORS,
                parameters=put_params,
                requestBody=put_body,
            ),
            "delete": _operation(
                "workers-kv-namespace-delete-key-value-pair", "Delete a key", _EMPTY, (400, 401, 403, 404, 414)
            ),
        },
        NAMESPACE + "/metadata/{key_name}": {
            "parameters": [_ACCOUNT, _NAMESPACE, _KEY],
            "get": _operation(
                "workers-kv-namespace-read-the-metadata-for-a-key",
                "Read a key's metadata",
                _result({"nullable": True}, "The metadata, or null."),
                _KEY_READ_ERRORS,
            ),
        },
    }


def _bulk_paths() -> dict[str, Schema]:
    pair = _object(
        {
            "key": _string(maxLength=MAX_KEY_BYTES),
            "value": _string(),
            "base64": {"type": "boolean", "default": False},
            "expiration": {"type": "number"},
            "expiration_ttl": {"type": "number", "minimum": 60},
            "metadata": {},
        },
        ("key", "value"),
    )
    names = {
        "type": "array",
        "maxItems": MAX_BULK_WRITE_PAIRS,
        "items": {"oneOf": [_string(), _object({"name": _string()}, ("name",))]},
    }
    delete_body = {"required": True, "content": {"application/json": {"schema": names}}}
    write_body = {
        "required": True,
        "content": {"application/json": {"schema": {"type": "array", "items": pair, "maxItems": MAX_BULK_WRITE_PAIRS}}},
    }
    get_body = {
        "required": True,
        "content": {
            "application/json": {
                "schema": _object(
                    {
                        "keys": {"type": "array", "items": _string(), "minItems": 1, "maxItems": MAX_BULK_GET_KEYS},
                        "type": _string(enum=["text", "json"], default="text"),
                        "withMetadata": {"type": "boolean", "default": False},
                    },
                    ("keys",),
                )
            }
        },
    }
    values = _object({"values": {"type": "object", "additionalProperties": {"nullable": True}}}, ("values",))
    delete = _operation(
        "workers-kv-namespace-delete-multiple-key-value-pairs",
        "Delete keys",
        _BULK_RESULT,
        _KEY_WRITE_ERRORS,
        requestBody=delete_body,
    )
    return {
        NAMESPACE + "/bulk": {
            "parameters": [_ACCOUNT, _NAMESPACE],
            "put": _operation(
                "workers-kv-namespace-write-multiple-key-value-pairs",
                "Write pairs",
                _BULK_RESULT,
                _KEY_WRITE_ERRORS,
                requestBody=write_body,
            ),
            "delete": {**delete, "operationId": delete["operationId"] + "-deprecated", "deprecated": True},
        },
        NAMESPACE + "/bulk/delete": {"parameters": [_ACCOUNT, _NAMESPACE], "post": delete},
        NAMESPACE + "/bulk/get": {
            "parameters": [_ACCOUNT, _NAMESPACE],
            "post": _operation(
                "workers-kv-namespace-get-multiple-key-value-pairs",
                "Read pairs",
                _result(values, "The values; null for a missing key."),
                (400, 401, 404, 413, 414),
                requestBody=get_body,
            ),
        },
    }


def _account_paths() -> dict[str, Schema]:
    page_info = _object({name: _integer() for name in ("page", "per_page", "count", "total_count", "total_pages")})
    account = _object({"id": _string(), "name": _string(), "type": _string()}, ("id", "name"))
    membership = _object(
        {"id": _string(), "account": account, "roles": {"type": "array", "items": _string()}, "status": _string()},
        ("id", "account"),
    )
    token = _object({"id": _string(), "status": _string(enum=["active"])}, ("id", "status"))
    return {
        "/accounts": {
            "get": _operation(
                "accounts-list-accounts",
                "List accounts",
                _result({"type": "array", "items": account}, "The account.", page_info),
                (401,),
            )
        },
        "/memberships": {
            "get": _operation(
                "user'-s-account-memberships-list-memberships",
                "List memberships",
                _result({"type": "array", "items": membership}, "The membership.", page_info),
                (401,),
            )
        },
        "/user/tokens/verify": {
            "get": _operation(
                "user-api-tokens-verify-token",
                "Verify the token",
                _result(token, "The token is valid."),
                (401,),
                throttled=False,
            )
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
            }
        },
    }


def _components(account_id: str) -> Schema:
    message = _object(
        {"code": _integer(minimum=1000), "message": _string(), "source": _object({"pointer": _string()})},
        ("code", "message"),
    )
    failure = _object(
        {
            "success": {"type": "boolean", "enum": [False]},
            "errors": {"type": "array", "items": _ref("Message"), "minItems": 1},
            "messages": {"type": "array", "items": _ref("Message")},
            "result": {"type": "object", "nullable": True, "maxProperties": 0},
        },
        ("success", "errors", "messages", "result"),
    )
    return {
        "schemas": {
            "Message": message,
            "Failure": failure,
            "Namespace": _object(
                {"id": _string(maxLength=32), "title": _string(), "supports_url_encoding": {"type": "boolean"}},
                ("id", "title"),
            ),
            "Key": _object({"name": _string(), "expiration": {"type": "number"}, "metadata": {}}, ("name",)),
            "BulkResult": _object(
                {"successful_key_count": _integer(), "unsuccessful_keys": {"type": "array", "items": _string()}},
                ("successful_key_count", "unsuccessful_keys"),
            ),
        },
        "responses": {f"E{status}": _json(_ref("Failure"), text) for status, text in _ERRORS.items()},
        "parameters": {
            "account_id": _param("account_id", "path", _string(enum=[account_id]), "The account this API serves.")
        },
        "securitySchemes": {
            "api_token": {"type": "http", "scheme": "bearer"},
            "api_email": {"type": "apiKey", "in": "header", "name": "X-Auth-Email"},
            "api_key": {"type": "apiKey", "in": "header", "name": "X-Auth-Key"},
        },
    }


def openapi_document(account_id: str) -> Schema:
    """The OpenAPI 3.0 document, with ``account_id`` as the example account."""
    document: Schema = {
        "openapi": "3.0.3",
        "info": {
            "title": "workerhost Workers KV REST API",
            "version": "4",
            "description": f"Cloudflare's v4 REST API for Workers KV, served locally. The account id is {account_id}.",
        },
        "servers": [{"url": "/client/v4"}],
        "security": [{"api_token": []}, {"api_email": [], "api_key": []}],
        "paths": {**_account_paths(), **_namespace_paths(), **_key_paths(), **_bulk_paths()},
        "components": _components(account_id),
    }
    document["components"]["schemas"]["Failure"]["example"] = {
        "success": False,
        "errors": [{"code": 10009, "message": "get: 'key not found'"}],
        "messages": [],
        "result": None,
    }
    return document
