"""The served OpenAPI document describes exactly the routes the app serves."""

from __future__ import annotations

import re

from starlette.routing import Route

from bindings import ManualClock, SqliteStore
from runtime.api import create_api
from runtime.config import ApiConfig

from .conftest import ACCOUNT_ID, TOKENS, LiveApi

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def app_operations(tmp_path) -> set[tuple[str, str]]:
    app = create_api(SqliteStore(tmp_path), clock=ManualClock(0), account_id=ACCOUNT_ID, auth=ApiConfig())
    operations = set()
    for route in app.routes:
        assert isinstance(route, Route)
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)  # {key_name:path} is {key_name} in OpenAPI
        operations |= {(path, method.lower()) for method in route.methods or () if method != "HEAD"}
    return operations


def test_the_document_and_the_routes_match_both_ways(api: LiveApi, tmp_path) -> None:
    document = api.http.get(f"{api.root}/openapi.json").json()
    documented = {
        (path, method) for path, item in document["paths"].items() for method in item if method in HTTP_METHODS
    }
    assert documented == app_operations(tmp_path)


def test_every_operation_documents_its_parameters_and_an_error_envelope(api: LiveApi) -> None:
    document = api.http.get(f"{api.root}/openapi.json").json()
    shared = document["components"]["parameters"]

    def name(param: dict) -> str:
        return shared[param["$ref"].rsplit("/", 1)[1]]["name"] if "$ref" in param else param["name"]

    for path, item in document["paths"].items():
        named = {name(param) for param in item.get("parameters", [])}
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            names = named | {name(param) for param in operation.get("parameters", [])}
            assert set(re.findall(r"\{(\w+)\}", path)) <= names, (path, method)
            assert "200" in operation["responses"]
            if path != "/openapi.json":
                assert any(status.startswith("4") for status in operation["responses"]), (path, method)
            assert operation["operationId"]


def test_every_reference_resolves(api: LiveApi) -> None:
    document = api.http.get(f"{api.root}/openapi.json").json()
    text = str(document)
    for reference in set(re.findall(r"'#/components/(\w+)/(\w+)'", text)):
        kind, name = reference
        assert name in document["components"][kind], reference


def test_the_document_is_public_even_with_tokens(api: LiveApi) -> None:
    api.use(TOKENS)
    response = api.http.get(f"{api.root}/openapi.json")
    assert response.status_code == 200 and response.json()["openapi"] == "3.0.3"


def test_the_document_names_the_configured_account(api: LiveApi) -> None:
    document = api.http.get(f"{api.root}/openapi.json").json()
    assert document["components"]["parameters"]["account_id"]["schema"]["enum"] == [ACCOUNT_ID]
