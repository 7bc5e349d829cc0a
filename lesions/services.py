"""Writes on lesions and photos. Views and the API call these; they never touch models directly."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from inference.services import analysis_request, analysis_rerun
from lesions import bodymap
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
# Each view of the body map has its own coordinates (lesions.bodymap).
MAP_WIDTH, MAP_HEIGHT = 200, 440
MAP_INCOMPLETE = "A place on the body map needs a view (front or back), x and y."
MAP_OUTSIDE = "That place is not on the body outline: tap inside it, or choose the site from the list."
MAP_SITE_MISMATCH = "The body site ({site}) is not where the map was tapped ({tapped})."
UNKNOWN_PHOTO_TYPE = "Say “dermoscopy” (through a dermatoscope) or “clinical” (plain phone camera)."


def _check_taken_at(taken_at: datetime | None) -> None:
    if taken_at is not None and taken_at > timezone.now():
        raise ValidationError({"taken_at": TAKEN_IN_THE_FUTURE})


def _check_photo_type(photo_type: str | None) -> None:
    if photo_type is not None and photo_type not in dict(PHOTO_TYPES):
        raise ValidationError({"photo_type": UNKNOWN_PHOTO_TYPE})


def _map_position(
    *, body_site: str | None, map_view: str | None, map_x: float | None, map_y: float | None
) -> tuple[str, tuple[str, float, float] | None] | None:
    """The site and body-map position a form or API call asks for, or None when it names neither.

    A tap (view, x, y) must land on the outline; it gives the site when none was chosen, and must
    agree with the one that was. A site chosen from the list alone puts the dot at the centre of
    that site (none for "unknown").
    """
    given = [bool(map_view), map_x is not None, map_y is not None]
    if any(given) and not all(given):
        raise ValidationError({"map_view": MAP_INCOMPLETE})
    if map_view and map_x is not None and map_y is not None:
        inside = (
            map_view in bodymap.VIEWS
            and 0 <= map_x <= MAP_WIDTH
            and 0 <= map_y <= MAP_HEIGHT
            and (tapped := bodymap.site_at(map_x, map_y, map_view)) != bodymap.UNKNOWN
        )
        if not inside:
            raise ValidationError({"map_x": MAP_OUTSIDE})
        if body_site is not None and body_site != tapped:
            raise ValidationError({"body_site": MAP_SITE_MISMATCH.format(site=body_site, tapped=tapped)})
        return tapped, (map_view, round(map_x, 1), round(map_y, 1))
    if body_site is None:
        return None
    return body_site, bodymap.default_position(body_site) if body_site in bodymap.SITES else None


def _place(lesion: Lesion, site: str, position: tuple[str, float, float] | None) -> None:
    lesion.body_site = site
    lesion.map_view, lesion.map_x, lesion.map_y = position if position else ("", None, None)


def lesion_create(
    *,
    owner: User,
    name: str,
    body_site: str | None = None,
    notes: str = "",
    map_view: str | None = None,
    map_x: float | None = None,
    map_y: float | None = None,
) -> Lesion:
    """Register a new lesion for `owner`, placed on the body map by a tap or by its site.

    Raises ValidationError by field: a tap off the outline, or one that disagrees with `body_site`.
    """
    lesion = Lesion(owner=owner, name=name.strip(), notes=notes)
    placed = _map_position(body_site=body_site, map_view=map_view, map_x=map_x, map_y=map_y)
    _place(lesion, *(placed or ("unknown", None)))
    lesion.full_clean()
    lesion.save()
    return lesion


def lesion_update(
    *,
    lesion: Lesion,
    name: str | None = None,
    body_site: str | None = None,
    notes: str | None = None,
    map_view: str | None = None,
    map_x: float | None = None,
    map_y: float | None = None,
) -> Lesion:
    """Change a lesion's name, body site, body-map place or notes (None: leave it).

    The same site without a new tap keeps the dot where it was; a new site alone moves it to that
    site's centre. Raises ValidationError by field.
    """
    if name is not None:
        lesion.name = name.strip()
    if body_site is not None and not map_view and lesion.map_view:
        # Compared with the stored site: a ModelForm has already set the new one on `lesion`.
        stored_site = Lesion.objects.filter(pk=lesion.pk).values_list("body_site", flat=True).first()
        if body_site == stored_site:
            body_site = None  # nothing moved: keep the dot where it was tapped
    placed = _map_position(body_site=body_site, map_view=map_view, map_x=map_x, map_y=map_y)
    if placed is not None:
        _place(lesion, *placed)
    if notes is not None:
        lesion.notes = notes
    lesion.full_clean()
    lesion.save()
    return lesion


def lesion_delete(*, lesion: Lesion) -> None:
    """Delete a lesion with its photos; the image files go once the transaction commits."""
    lesion.delete()


def photo_create(
    *, lesion: Lesion, upload: UploadedFile, taken_at: datetime | None = None, photo_type: str | None = None
) -> Photo:
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
