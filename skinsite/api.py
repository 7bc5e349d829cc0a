"""What every API module shares: pagination, content negotiation for files, the JSON
404, the one exception handler, and what the OpenAPI schema says about errors and authentication.
Each API module describes its own endpoints (`@extend_schema`).

One style across apps: every endpoint is a viewset, routed in skinsite.urls by
skinsite.routers.ApiRouter.

Every operation can answer 429 (the global throttles), every authenticated one 401 and 403,
every one with a path id or a page 404, and every one that takes input 400. Rather than repeat
that on each view, a post-processing hook adds those responses to the generated schema, so the
schema clients read (and schemathesis checks us against) matches what DRF really sends.
"""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views import defaults
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions, pagination, views
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.settings import api_settings

_ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What went wrong, in words."}},
    "required": ["detail"],
}
_VALIDATION_ERROR = {
    "type": "object",
    "description": (
        "Messages by field name (`non_field_errors` for the request as a whole, `detail` when "
        "the body could not be parsed at all)."
    ),
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    },
}


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a URL that no view matched answers JSON under /api/, the usual page elsewhere.

    `/api/lesions/abc/` never reaches DRF (the router wants a number), and a client parsing
    JSON errors should not get an HTML page for it.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a request Django refused before any view ran (a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, a multipart body it cannot parse) answers the API's error shape
    under /api/ (`detail`, as for a body DRF cannot parse), the usual page elsewhere."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            detail = "The request body is too large."
        elif isinstance(exception, MultiPartParserError):
            detail = "The multipart body could not be read: check its boundary."
        else:
            detail = "Bad request."
        return JsonResponse({"detail": detail}, status=400)
    return defaults.bad_request(request, exception)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """REST_FRAMEWORK's EXCEPTION_HANDLER: services' errors in the API's error shape.

    Services raise Django's ValidationError, by field where they can; it answers 400 with the
    messages by field (`non_field_errors` for the rest), like a serializer's. Http404 and
    everything DRF knows are left to DRF's own handler. Anything else is a bug and stays a 500.
    """
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail: Any = {
                (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
                for field, messages in exc.message_dict.items()
            }
        else:
            detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        exc = exceptions.ValidationError(detail)
    return views.exception_handler(exc, context)


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M` (at most 100) → `{count, next, previous, results}`."""

    page_size_query_param = "page_size"
    page_size_query_description = "Items per page (at most 100)."
    max_page_size = 100


def paginated_response(request, items, serializer_class, **context) -> Response:
    """One page of `items` in the envelope every list of the API answers with.

    For a plain `ViewSet`'s list, which has no paginator of its own; give the viewset
    `pagination_class = PageNumberPagination` so that drf-spectacular describes the
    `{count, next, previous, results}` envelope.
    """
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(items, request)
    data = serializer_class(page, many=True, context={"request": request, **context}).data
    return paginator.get_paginated_response(data)


class FileContentNegotiation(BaseContentNegotiation):
    """For views that answer with file bytes (photos, the export ZIP).

    The file itself bypasses DRF's renderers, so an `Accept: image/jpeg` or `application/zip` from
    the client must not be refused with 406; errors on these views are still rendered as JSON.
    """

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents accounts.tokens.ApiTokenAuthentication as the `Token` header scheme."""

    target_class = "accounts.tokens.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema) -> dict[str, Any]:
        scheme = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
        scheme["description"] = (
            "`Authorization: Token <token>`, with a token from `POST /api/auth/token/`. Each device "
            "gets its own; list them at `GET /api/auth/tokens/` and revoke one with `DELETE`."
        )
        return scheme


def _response(description: str, schema: str, headers: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if headers:
        body["headers"] = headers
    return body


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {"description": "The scheme to authenticate with: `Token`.", "schema": {"type": "string"}}
}


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: document the error answers every view can give."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", _ERROR)
    schemas.setdefault("ValidationError", _VALIDATION_ERROR)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            # No `security` at all (authentication_classes=[]) or an empty requirement: anonymous is fine.
            anonymous = not operation.get("security") or {} in operation["security"]
            takes_input = "requestBody" in operation or any(p["in"] == "query" for p in parameters)
            has_lookup = any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters)
            if takes_input:
                responses.setdefault("400", _response("The input was refused; see the messages.", "ValidationError"))
            if not anonymous:
                responses.setdefault(
                    "401", _response("No credentials, or a revoked token.", "Error", _WWW_AUTHENTICATE)
                )
                responses.setdefault("403", _response("Not allowed (e.g. a session request without CSRF).", "Error"))
            if has_lookup:
                responses.setdefault("404", _response("No such object among yours, or no such page.", "Error"))
            responses.setdefault(
                "429", _response("Too many requests; try again after `Retry-After` seconds.", "Error", _RETRY_AFTER)
            )
    return result
