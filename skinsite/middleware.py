"""Response headers every private answer and every page needs.

- `PrivateCacheMiddleware`: `Cache-Control: private, no-store` on everything that is someone's
  data (any page seen logged in, every API answer, photos, heatmaps, PDFs, exports, and the
  physicians' report links), so neither a shared proxy nor the browser's disk keeps a copy; and
  `X-Robots-Tag: noindex, nofollow` on every answer under the report links, their 404s too.
- `ContentSecurityPolicyMiddleware`: scripts only from our own static files (or a `<script>`
  carrying this response's nonce, `{{ request.csp_nonce }}`), no framing, forms post only here.
"""

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# The physicians' report links (sharing.urls): the token, then the report session, is the credential.
_REPORT_PREFIXES = ("/r/", "/report/")
# Paths whose answers are private even without a logged-in user: the API (token auth, and its
# errors name objects) and the report links.
_PRIVATE_PREFIXES = ("/api/", *_REPORT_PREFIXES)


class PrivateCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            request.path.startswith(_PRIVATE_PREFIXES)
            or "HTTP_AUTHORIZATION" in request.META
            or (user is not None and user.is_authenticated)
        ):
            # Replaces whatever a view said (e.g. the education pages' public, no-cache).
            response["Cache-Control"] = "private, no-store"
            response.headers.pop("Expires", None)
        if request.path.startswith(_REPORT_PREFIXES):
            # The report views say so themselves; this reaches the answers no view made (a 404).
            response.headers.setdefault("X-Robots-Tag", "noindex, nofollow")
        return response


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            # Inline style attributes (bar widths) and Swagger UI's <style>: CSS cannot run script.
            "style-src 'self' 'unsafe-inline'",
            # data: for the two-factor QR code and report charts, blob: for the camera preview.
            "img-src 'self' data: blob:",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        # An attribute of our own on Django's request, for the templates' {{ request.csp_nonce }}.
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(nonce)
        return response
