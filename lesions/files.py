"""Handing out private image files to a caller whose right to see them was already checked."""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect


def private_file_response(field: FieldFile) -> HttpResponse:
    """Stream the file from local storage, or redirect to a short-lived signed S3 URL."""
    if not field.name:
        raise Http404("No such file.")
    storage = field.storage
    try:
        storage.path(field.name)
    except NotImplementedError:
        # Remote storage: the signed URL expires in minutes (AWS_QUERYSTRING_EXPIRE).
        response: HttpResponse = HttpResponseRedirect(field.url)
    else:
        try:
            response = FileResponse(storage.open(field.name, "rb"), content_type="image/jpeg")
        except FileNotFoundError:
            raise Http404("The file is missing from storage.") from None
    # Medical photos: browsers may keep them briefly, shared caches never.
    response["Cache-Control"] = "private, max-age=300"
    return response
