"""Cap request bodies while they stream in, before anything is spooled to disk.

Django reads a whole multipart body (to memory, then a temporary file) before any view can
look at its size. `UploadLimitHandler`, first among the upload handlers, counts file bytes as
they arrive and stops at `MAX_UPLOAD_MB` (at the first byte for a visitor who is not logged
in: nobody uploads files anonymously); `UploadLimitMiddleware` parses the body up front, so the
stop becomes a clear answer instead of a missing file or a bare 400. A declared
Content-Length over the limit is refused before a byte is read.
"""

from collections.abc import Callable
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

# Room for the form's other fields and the multipart boundaries around the file.
_FORM_OVERHEAD = 64 * 1024


class UploadTooLarge(RequestDataTooBig):
    """Raised while the body streams in; a RequestDataTooBig, so left uncaught it is still a 400."""


def _may_upload(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool((user is not None and user.is_authenticated) or "HTTP_AUTHORIZATION" in request.META)


def upload_limit_bytes(request: HttpRequest) -> int:
    return settings.MAX_UPLOAD_MB * 1024 * 1024 if _may_upload(request) else 0


def _message(request: HttpRequest) -> str:
    if not _may_upload(request):
        return "Log in to upload photos."
    return f"The file is too large; the limit is {settings.MAX_UPLOAD_MB} MB."


class UploadLimitHandler(FileUploadHandler):
    def _request(self) -> HttpRequest:
        # Django makes each upload handler with the request it parses (HttpRequest.upload_handlers).
        assert self.request is not None
        return self.request

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, str],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        self.limit = upload_limit_bytes(self._request())
        self.received = 0
        if content_length and content_length > self.limit + _FORM_OVERHEAD:
            raise UploadTooLarge(_message(self._request()))

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if self.limit == 0:
            raise UploadTooLarge(_message(self._request()))

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)  # across every file of the request
        if self.received > self.limit:
            raise UploadTooLarge(_message(self._request()))
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file


def _too_large(request: HttpRequest) -> HttpResponse:
    message = _message(request)
    if request.path.startswith("/api/"):
        # The API's usual shape for a refused upload: 400 with the message under `image`.
        response: HttpResponse = JsonResponse({"image": [message]}, status=400)
    else:
        response = render(request, "upload_too_large.html", {"message": message}, status=413)
    # No `Connection: close`, though the rest of the body is never read: a WSGI application may not
    # send hop-by-hop headers (PEP 3333). Django's development server refused it with a bare 500
    # and gunicorn dropped it. The server deals with the unread rest itself: the development
    # server reads it away, gunicorn discards it or closes the connection.
    return response


class UploadLimitMiddleware:
    """After authentication (the limit depends on who asks), before anything reads the body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in {"POST", "PUT", "PATCH"} and request.content_type == "multipart/form-data":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > upload_limit_bytes(request) + _FORM_OVERHEAD:
                return _too_large(request)
            try:
                request.POST, request.FILES  # noqa: B018 - parse now, through UploadLimitHandler
            except UploadTooLarge:
                return _too_large(request)
        return self.get_response(request)
