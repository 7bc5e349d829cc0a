"""Absolute URLs, made one way: from the request when there is one, else from SITE_URL."""

from django.conf import settings
from django.http import HttpRequest


def absolute_url(path: str) -> str:
    """`path` on SITE_URL, for emails and tasks: they have no request to take the host from."""
    return settings.SITE_URL + path


def absolute_uri(request: HttpRequest | None, path: str) -> str:
    """`path` on the host the client asked (API answers); the bare path when there is no request."""
    return request.build_absolute_uri(path) if request is not None else path
