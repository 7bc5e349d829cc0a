"""The OpenAPI schema is generated from the code, validates, and describes every endpoint and error.

The interactive docs are served from our own static files: no CDN, so they work offline too.
"""

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

# The contract mobile clients rely on (README, "REST API"), including the sharing and education APIs.
CONTRACT = {
    ("post", "/api/auth/register/"),
    ("post", "/api/auth/token/"),
    ("get", "/api/auth/tokens/"),
    ("delete", "/api/auth/tokens/{id}/"),
    ("get", "/api/account/"),
    ("patch", "/api/account/"),
    ("delete", "/api/account/"),
    ("get", "/api/account/export/"),
    ("get", "/api/lesions/"),
    ("post", "/api/lesions/"),
    ("get", "/api/lesions/{id}/"),
    ("patch", "/api/lesions/{id}/"),
    ("delete", "/api/lesions/{id}/"),
    ("get", "/api/lesions/{id}/photos/"),
    ("post", "/api/lesions/{id}/photos/"),
    ("get", "/api/lesions/{id}/history/"),
    ("get", "/api/photos/"),
    ("get", "/api/photos/{id}/"),
    ("patch", "/api/photos/{id}/"),
    ("delete", "/api/photos/{id}/"),
    ("get", "/api/photos/{id}/image/"),
    ("get", "/api/photos/{id}/thumbnail/"),
    ("post", "/api/lesions/{lesion_id}/shares/"),
    ("get", "/api/shares/"),
    ("post", "/api/shares/"),
    ("get", "/api/shares/{share_id}/"),
    ("delete", "/api/shares/{share_id}/"),
    ("get", "/api/conditions/"),
    ("get", "/api/conditions/{code}/"),
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    """The schema as `manage.py spectacular` writes it, refusing any warning (as CI must)."""
    out = tmp_path_factory.mktemp("openapi") / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def _api_patterns(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            yield route, pattern.callback


def test_schema_validates_and_holds_the_whole_contract(schema):
    assert schema["openapi"].startswith("3.")
    documented = {(method, path) for method, path, _ in _operations(schema)}
    assert documented >= CONTRACT, CONTRACT - documented


def test_every_api_url_is_a_view_the_schema_generator_sees(db):
    # A plain Django view under /api/ would be left out of the schema without a warning.
    for route, callback in _api_patterns(get_resolver().url_patterns):
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        assert view_class is not None and issubclass(view_class, APIView), route


def test_every_operation_is_summarised_and_documents_its_errors(schema):
    for method, path, operation in _operations(schema):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        assert operation.get("summary") or operation.get("description"), where
        assert "429" in responses and "Retry-After" in responses["429"]["headers"], where
        assert any(code.startswith("2") for code in responses), where
        if operation.get("security") and {} not in operation["security"]:
            assert {"401", "403"} <= set(responses), where
        if "{" in path:
            assert "404" in responses, where
        if "requestBody" in operation:
            assert "400" in responses, where
        for code, response in responses.items():
            for media in response.get("content", {}).values():
                assert media["schema"], f"{where} {code}"
                assert "Unspecified" not in str(media["schema"]), f"{where} {code}"


def test_every_field_has_a_type(schema):
    def typed(field: dict) -> bool:
        return bool({"type", "$ref", "allOf", "oneOf", "anyOf", "enum"} & set(field))

    for name, component in schema["components"]["schemas"].items():
        for field_name, field in component.get("properties", {}).items():
            assert typed(field), f"{name}.{field_name}"


def test_both_authentication_schemes_are_described(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["tokenAuth"]["description"],
    }
    assert "Token <token>" in schemes["tokenAuth"]["description"]
    assert schemes["cookieAuth"]["in"] == "cookie"


def test_photo_upload_and_files_are_described_as_binary(schema):
    upload = schema["paths"]["/api/lesions/{id}/photos/"]["post"]
    assert list(upload["requestBody"]["content"]) == ["multipart/form-data"]
    assert list(upload["responses"]["202"]["content"]) == ["application/json"]
    image = schema["paths"]["/api/photos/{id}/image/"]["get"]["responses"]["200"]["content"]
    assert image["image/jpeg"]["schema"] == {"type": "string", "format": "binary"}
    export = schema["paths"]["/api/account/export/"]["get"]["responses"]["200"]["content"]
    assert export["application/zip"]["schema"] == {"type": "string", "format": "binary"}


def test_a_lesion_carries_its_advice_with_a_typed_band(schema):
    components = schema["components"]["schemas"]
    lesion = components["Lesion"]["properties"]
    assert lesion["advice"].get("readOnly") and "recent assessable photos" in lesion["advice"]["description"]
    ref = next(part["$ref"] for part in lesion["advice"].get("allOf", [lesion["advice"]]) if "$ref" in part)
    advice = components[ref.rsplit("/", 1)[-1]]["properties"]
    assert {"band", "title", "photos", "malignant_probability", "latest_band", "most_likely_malignant"} <= set(advice)
    band = advice["band"]
    band_ref = next(part["$ref"] for part in band.get("oneOf", band.get("allOf", [band])) if "$ref" in part)
    assert components[band_ref.rsplit("/", 1)[-1]]["enum"] == ["low", "medium", "high"]


def test_the_schema_is_served_to_anyone(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/lesions/" in response.json()["paths"]


def test_the_docs_page_loads_everything_from_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "nothing may come from another host"
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_swagger_ui_does_not_call_the_public_validator(client):
    # The settings are in the start-up script, served apart from the page (no inline script).
    assert '"validatorUrl": null' in client.get("/api/docs/?script=").content.decode()


def test_unknown_urls_under_the_api_answer_json_and_pages_stay_html(client):
    api = client.get("/api/lesions/1.5/")  # the router wants digits: no view matches
    assert api.status_code == 404
    assert api.json() == {"detail": "Not found."}
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
