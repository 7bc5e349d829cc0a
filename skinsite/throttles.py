"""The API's throttles: stricter than the global anon and user rates, each with its own scope.

The rates are in settings (`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, from `API_THROTTLE_*`); the
counters and the client address are DRF's, the same as `skinsite.ratelimit`'s for the web forms.
"""

from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class RegisterThrottle(AnonRateThrottle):
    scope = "register"


class TokenThrottle(AnonRateThrottle):
    """Per client address: slows password guessing against any account."""

    scope = "token"


class ExportThrottle(UserRateThrottle):
    scope = "export"


class UploadThrottle(UserRateThrottle):
    """Uploads fill storage and the worker's queue: a stricter rate than other requests.

    The web upload form counts against it too (lesions.views.photo_upload), so the web is no way round it.
    """

    scope = "upload"

    def allow_request(self, request: Request | HttpRequest, view: Any) -> bool:
        # The photos action also lists photos (GET), which only the ordinary rate limits. The
        # counting reads only what a Django request has as well (the user and REMOTE_ADDR).
        return request.method != "POST" or super().allow_request(request, view)  # type: ignore[arg-type]


class MeasureThrottle(UserRateThrottle):
    """Measuring a photo again (a scale marked, a coin picked, a dermatoscope chosen or set up) queues the
    outline, the reference search and the later photos' comparisons for the worker (inference.tasks.
    remeasure_size), seconds of CPU each, and setting up a dermatoscope looks for its ruler in the web
    process: one patient must not fill the worker's queue or keep the web processes busy. Only requests
    that change something count (reading is the ordinary rate's). The web forms count against it too
    (lesions.views.measure_throttled), so the web is no way round it.
    """

    scope = "measure"

    def allow_request(self, request: Request | HttpRequest, view: Any) -> bool:
        return request.method in ("GET", "HEAD", "OPTIONS") or super().allow_request(request, view)  # type: ignore[arg-type]
