"""Writes on lesions and photos. Views and the API call these; they never touch models directly."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from inference.services import analysis_request, analysis_rerun
from lesions.imaging import InvalidImage, process_upload
from lesions.models import PHOTO_TYPES, Lesion, Photo

__all__ = [
    "InvalidImage",
    "lesion_create",
    "lesion_delete",
    "lesion_update",
    "photo_create",
    "photo_delete",
    "photo_type_set",
    "photo_update",
]

TAKEN_IN_THE_FUTURE = "The date a photo was taken cannot be in the future."
UNKNOWN_PHOTO_TYPE = "Say “dermoscopy” (through a dermatoscope) or “clinical” (plain phone camera)."


def _check_taken_at(taken_at: datetime | None) -> None:
    if taken_at is not None and taken_at > timezone.now():
        raise ValidationError({"taken_at": TAKEN_IN_THE_FUTURE})


def _check_photo_type(photo_type: str | None) -> None:
    if photo_type is not None and photo_type not in dict(PHOTO_TYPES):
        raise ValidationError({"photo_type": UNKNOWN_PHOTO_TYPE})


def lesion_create(*, owner: User, name: str, body_site: str = "unknown", notes: str = "") -> Lesion:
    """Register a new lesion for `owner`."""
    lesion = Lesion(owner=owner, name=name.strip(), body_site=body_site, notes=notes)
    lesion.full_clean()
    lesion.save()
    return lesion


def lesion_update(
    *, lesion: Lesion, name: str | None = None, body_site: str | None = None, notes: str | None = None
) -> Lesion:
    """Change a lesion's name, body site or notes (None: leave it). Raises ValidationError by field."""
    if name is not None:
        lesion.name = name.strip()
    if body_site is not None:
        lesion.body_site = body_site
    if notes is not None:
        lesion.notes = notes
    lesion.full_clean()
    lesion.save()
    return lesion


def lesion_delete(*, lesion: Lesion) -> None:
    """Delete a lesion with its photos; the image files go once the transaction commits."""
    lesion.delete()


def photo_create(*, lesion: Lesion, upload, taken_at: datetime | None = None, photo_type: str | None = None) -> Photo:
    """Store a verified, EXIF-free copy of `upload` and queue its analysis.

    `taken_at` wins over the EXIF capture time, which wins over now. `photo_type` ("dermoscopy"
    or "clinical") is what the patient said; None lets the model detect it. Raises `InvalidImage`
    (a ValidationError under `image`) if the file is not a usable photo, ValidationError under
    `taken_at` for a date in the future or `photo_type` for an unknown type; either way nothing
    is stored.
    """
    _check_photo_type(photo_type)
    processed = process_upload(upload)
    _check_taken_at(taken_at)
    with transaction.atomic():
        photo = Photo(
            lesion=lesion,
            taken_at=taken_at or processed.taken_at or timezone.now(),
            sha256=processed.sha256,
            width=processed.width,
            height=processed.height,
            photo_type=photo_type,
        )
        photo.image.save("photo.jpg", ContentFile(processed.jpeg), save=False)
        photo.thumbnail.save("thumb.jpg", ContentFile(processed.thumbnail), save=False)
        try:
            photo.save()
            analysis_request(photo=photo)
        except BaseException:
            # The row rolls back with the transaction; the files must go too.
            photo.image.delete(save=False)
            photo.thumbnail.delete(save=False)
            raise
    return photo


def photo_update(*, photo: Photo, taken_at: datetime) -> Photo:
    """Correct the date a photo was taken (EXIF can be missing or wrong); not to a date in the future."""
    _check_taken_at(taken_at)
    photo.taken_at = taken_at
    photo.save(update_fields=["taken_at"])
    return photo


def photo_type_set(*, photo: Photo, photo_type: str) -> Photo:
    """Record how the photo was taken, as the patient says, and analyse it again with that type.

    Setting the type it already has changes nothing and queues nothing.
    """
    if photo_type is None:
        raise ValidationError({"photo_type": UNKNOWN_PHOTO_TYPE})
    _check_photo_type(photo_type)
    if photo.photo_type == photo_type:
        return photo
    with transaction.atomic():
        photo.photo_type = photo_type
        photo.save(update_fields=["photo_type"])
        analysis_rerun(photo=photo)
    return photo


def photo_delete(*, photo: Photo) -> None:
    """Delete a photo and its analyses; the image files go once the transaction commits."""
    photo.delete()
