"""Handing out private image files to a caller whose right to see them was already checked."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.http.response import HttpResponseBase


def private_file_response(field: FieldFile) -> HttpResponseBase:
    """Stream the file from storage, or redirect to a short-lived signed URL (remote storage).

    Streaming works with every storage, including S3 or MinIO behind a private network; the
    redirect (PHOTO_SIGNED_URL_REDIRECT) is for buckets that browsers can reach.
    """
    if not field.name:
        raise Http404("No such file.")
    storage = field.storage
    response: HttpResponseBase
    if settings.PHOTO_SIGNED_URL_REDIRECT and not isinstance(storage, FileSystemStorage):
        response = HttpResponseRedirect(field.url)
    else:
        try:
            response = FileResponse(storage.open(field.name, "rb"), content_type="image/jpeg")
        except FileNotFoundError:
            raise Http404("The file is missing from storage.") from None
    # Medical photos: neither a shared cache nor the browser's disk keeps a copy (a shared or
    # public computer). skinsite.middleware.PrivateCacheMiddleware says the same on every private answer.
    response["Cache-Control"] = "private, no-store"
    return response
