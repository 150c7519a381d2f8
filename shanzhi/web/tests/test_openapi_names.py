"""The OpenAPI document names each request body's schema by its class name, so two apps' schemas
with one name share one component and the docs show one app's fields for the other's endpoint."""

from collections import defaultdict

from shanzhi.config.api import api


def _routers(routers: list) -> list:
    """Every router, nested ones (a router's own sub-routers) included."""
    out = []
    for entry in routers:  # (prefix, router[, …]) tuples
        router = entry[1]
        out += [router, *_routers(router._routers)]
    return out


def test_request_schemas_have_unique_names() -> None:
    modules: dict[str, set[str]] = defaultdict(set)
    for router in _routers(api._routers):
        for view in router.path_operations.values():
            for operation in view.operations:
                for model in operation.models:
                    for field in model.model_fields.values():
                        kind = field.annotation
                        if isinstance(kind, type) and hasattr(kind, "model_fields"):
                            modules[kind.__name__].add(kind.__module__)
    assert modules, "no request schemas found"
    assert {name: mods for name, mods in modules.items() if len(mods) > 1} == {}


def test_openapi_document_shows_each_body_its_own_fields(client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert "households_reached" in schemas["TaskReportIn"]["properties"]
    assert "what" in schemas["CannotGetDoneIn"]["properties"]
