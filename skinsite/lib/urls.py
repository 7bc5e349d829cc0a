"""Absolute URLs, made one way for emails, tasks and API answers."""

from django.conf import settings
from django.http import HttpRequest


def absolute_url(path: str, request: HttpRequest | None = None) -> str:
    """`path` on this site: on SITE_URL when it is set (or no request is at hand, as in a task),
    else on the host and scheme the request came in on (so `PORT=8765 make run` links to 8765)."""
    if request is not None and not settings.SITE_URL_SET:
        return request.build_absolute_uri(path)
    return settings.SITE_URL + path
