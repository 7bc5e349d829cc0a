"""Writes on lesions and photos. Views and the API call these; they never touch models directly."""

import io
import math
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import COIN_OTHER, User
from accounts.services import UNKNOWN_COIN, coin_diameter_check
from inference import measuring
from inference.models import Analysis
from inference.services import SCALE_SIDE, analysis_request, analysis_rerun, size_remeasure_request
from lesions import bodymap
from lesions.imaging import InvalidImage, process_upload
from lesions.models import PHOTO_TYPES, Dermatoscope, Lesion, Photo
from measurement.scale import COINS, DEVICE, REASONS, Scale, find_scale, manual_scale
from training.contract import open_image

__all__ = [
    "COIN_MINE",
    "InvalidImage",
    "dermatoscope_calibrate",
    "dermatoscope_delete",
    "dermatoscope_photos_remeasure",
    "lesion_create",
    "lesion_delete",
    "lesion_update",
    "photo_coin_set",
    "photo_create",
    "photo_delete",
    "photo_device_set",
    "photo_scale_clear",
    "photo_scale_set",
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
# A photo's coin: a key of measurement.scale.COINS, "other" with its diameter, or COIN_MINE for the coin
# the patient chose in their settings (User.coin).
COIN_MINE = "mine"
NO_COIN_CHOSEN = "You have not chosen your coin yet. Choose it in your settings, or pick it from the list."
NOT_YOUR_DERMATOSCOPE = "Choose one of your own dermatoscopes."
BAD_POINTS = "Mark two points on the photo."
DISTANCE_RANGE = "Give the distance between the two points in mm (more than 0, at most 500)."
POINTS_AND_DISTANCE = "Mark two points and give the distance between them, or choose a coin."
NO_RULER_FOUND = (
    "We could not find a ruler or card in this photo. Take the photo again with the ruler sharp and "
    "filling the view, or mark two points on the ruler and give their distance in mm."
)
DERMATOSCOPE_NAME_NEEDED = "Give your dermatoscope a name."
MAX_DISTANCE_MM = 500.0


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


def coin_diameter_for(*, owner: User, coin: str | None, coin_diameter_mm: float | None = None) -> float | None:
    """The diameter in mm of the coin a patient says lies in a photo, or None for no coin.

    `coin` is COIN_MINE (the coin chosen in their settings), a key of measurement.scale.COINS, or
    "other" (or None) with `coin_diameter_mm`. Raises ValidationError by field (`coin`, `coin_diameter_mm`).
    """
    if not coin and coin_diameter_mm is None:
        return None
    if coin == COIN_MINE:
        mine = owner.coin_diameter_mm
        if mine is None:
            raise ValidationError({"coin": NO_COIN_CHOSEN})
        return mine
    if coin in COINS:
        return COINS[coin][1]
    if coin in (None, "", COIN_OTHER):
        return coin_diameter_check(coin_diameter_mm, field="coin_diameter_mm")
    raise ValidationError({"coin": UNKNOWN_COIN})


def _check_device(owner_id: int, device: Dermatoscope | None) -> None:
    if device is not None and device.owner_id != owner_id:
        raise ValidationError({"device": NOT_YOUR_DERMATOSCOPE})


def photo_create(
    *,
    lesion: Lesion,
    upload: UploadedFile,
    taken_at: datetime | None = None,
    photo_type: str | None = None,
    coin: str | None = None,
    coin_diameter_mm: float | None = None,
    device: Dermatoscope | None = None,
) -> Photo:
    """Store a verified, EXIF-free copy of `upload` and queue its analysis.

    `taken_at` wins over the EXIF capture time, which wins over now. `photo_type` ("dermoscopy"
    or "clinical") is what the patient said; None lets the model detect it. `coin` says a coin lies
    beside the lesion (COIN_MINE: the patient's chosen coin; see `coin_diameter_for`) and `device`
    which of the patient's calibrated dermatoscopes took it: the worker measures the lesion in mm from
    them. Raises `InvalidImage` (a ValidationError under `image`) if the file is not a usable photo,
    ValidationError under `taken_at` for a date in the future, `photo_type` for an unknown type,
    `coin`/`coin_diameter_mm` or `device`; either way nothing is stored.
    """
    _check_photo_type(photo_type)
    coin_mm = coin_diameter_for(owner=lesion.owner, coin=coin, coin_diameter_mm=coin_diameter_mm)
    _check_device(lesion.owner_id, device)
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
            coin_diameter_mm=coin_mm,
            device=device,
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


def _own_photo(photo: Photo, user: User) -> None:
    # Services that a view or the API calls with a photo it looked up: another user's photo is not found.
    if photo.lesion.owner_id != user.pk:
        raise Http404("No such photo.")


def _checked_points(points: Any) -> list[list[float]]:
    try:
        checked = [[float(points[i][0]), float(points[i][1])] for i in range(2)]
    except (TypeError, ValueError, IndexError, KeyError):
        raise ValidationError({"points": BAD_POINTS}) from None
    if len(points) != 2 or not all(math.isfinite(v) and 0.0 <= v <= 1.0 for p in checked for v in p):
        raise ValidationError({"points": BAD_POINTS})
    return checked


def _checked_distance(distance_mm: Any) -> float:
    try:
        distance = float(distance_mm)
    except (TypeError, ValueError):
        raise ValidationError({"distance_mm": DISTANCE_RANGE}) from None
    if not 0.0 < distance <= MAX_DISTANCE_MM:  # NaN fails this too
        raise ValidationError({"distance_mm": DISTANCE_RANGE})
    return distance


def _manual(points: Any, distance_mm: Any, *, width: int, height: int) -> tuple[dict[str, Any], Scale]:
    """The patient's two points and distance as stored, and the scale they give; ValidationError by field."""
    checked, distance = _checked_points(points), _checked_distance(distance_mm)
    scale = manual_scale(checked, distance, width=width, height=height)
    if not scale.ok:
        raise ValidationError({"points": REASONS.get(scale.reason or "", BAD_POINTS)})
    return {"points": checked, "distance_mm": distance}, scale


def _remeasure(photo: Photo) -> None:
    # Seconds of CPU: the worker measures it once this transaction commits; until then the photo's
    # size says it is being measured again (inference.services.size_remeasure_request).
    size_remeasure_request(photo=photo)


def photo_scale_set(
    *,
    photo: Photo,
    user: User,
    points: list[list[float]] | None = None,
    distance_mm: float | None = None,
    coin: str | None = None,
    coin_diameter_mm: float | None = None,
) -> Photo:
    """Give the photo a scale by hand, and have its lesion measured in mm again.

    Either two points marked on the photo (fractions of its width and height, [[x, y], [x, y]]) and
    their real distance in mm, which then win over any reference found in it; or the coin lying in it
    (`coin` as for `photo_create`), which is then looked for (a scale marked earlier is dropped). Once
    this commits, the worker gives the photo's finished analyses their size again and re-runs the
    lesion's change detection that compared them (inference.services.analyses_size_refresh); until then
    they say their size is being measured again. Only the photo's owner may (Http404 for anyone else);
    ValidationError by field for what is not right.
    """
    _own_photo(photo, user)
    if points is not None or distance_mm is not None:
        if coin is not None or coin_diameter_mm is not None:
            raise ValidationError(POINTS_AND_DISTANCE)
        width, height = _full_size(photo)
        photo.manual_scale, _ = _manual(points, distance_mm, width=width, height=height)
    elif coin is not None or coin_diameter_mm is not None:
        photo.coin_diameter_mm = coin_diameter_for(owner=user, coin=coin, coin_diameter_mm=coin_diameter_mm)
        photo.manual_scale = None
    else:
        raise ValidationError(POINTS_AND_DISTANCE)
    with transaction.atomic():
        photo.save(update_fields=["manual_scale", "coin_diameter_mm"])
        _remeasure(photo)
    return photo


def photo_coin_set(
    *, photo: Photo, user: User, coin: str | None = None, coin_diameter_mm: float | None = None
) -> Photo:
    """Say which coin lies in the photo (see `photo_scale_set`); None for both: there is no coin."""
    if coin is None and coin_diameter_mm is None:
        _own_photo(photo, user)
        with transaction.atomic():
            photo.coin_diameter_mm = None
            photo.save(update_fields=["coin_diameter_mm"])
            _remeasure(photo)
        return photo
    return photo_scale_set(photo=photo, user=user, coin=coin, coin_diameter_mm=coin_diameter_mm)


def photo_scale_clear(*, photo: Photo, user: User) -> Photo:
    """Forget the scale marked by hand: the coin, card, ruler or dermatoscope gives the size again."""
    _own_photo(photo, user)
    with transaction.atomic():
        photo.manual_scale = None
        photo.save(update_fields=["manual_scale"])
        _remeasure(photo)
    return photo


def photo_device_set(*, photo: Photo, user: User, device: Dermatoscope | None) -> Photo:
    """Say which of the patient's dermatoscopes took the photo (None: none), and have it measured again."""
    _own_photo(photo, user)
    _check_device(user.pk, device)
    with transaction.atomic():
        photo.device = device
        photo.save(update_fields=["device"])
        _remeasure(photo)
    return photo


def _full_size(photo: Photo) -> tuple[int, int]:
    if photo.width and photo.height:
        return photo.width, photo.height
    with photo.image.open("rb") as fh:
        return open_image(fh).size


def _ruler_scale(image_bytes: bytes, width: int, height: int, points: Any, distance_mm: Any) -> Scale:
    """The scale of a calibration photo: two marked points and their distance, or a ruler (or card) found."""
    if points is not None or distance_mm is not None:
        return _manual(points, distance_mm, width=width, height=height)[1]
    image = open_image(io.BytesIO(image_bytes), size=SCALE_SIDE)
    found = find_scale(image)
    if not found.ok or found.mm_per_pixel is None:
        raise ValidationError(NO_RULER_FOUND)
    return measuring.in_full_size_pixels(found, image.width, width)


def dermatoscope_calibrate(
    *,
    user: User,
    name: str | None = None,
    dermatoscope: Dermatoscope | None = None,
    photo: Photo | UploadedFile | None = None,
    upload: UploadedFile | None = None,
    points: list[list[float]] | None = None,
    distance_mm: float | None = None,
) -> Dermatoscope:
    """Calibrate a phone dermatoscope from one photo of a ruler taken through it; returns it.

    The photo is an uploaded file (`upload`, or `photo`; not kept) or one of the patient's stored photos
    (`photo`). Its scale comes from
    two points marked on the ruler and their distance in mm, or else from a ruler (or card) found in
    it; none found is a ValidationError that says what to do. `dermatoscope` (the patient's) is
    calibrated again; else the one called `name` is, made if new. Photos taken with it later are
    measured with this calibration, and so are, again, the photos taken with an existing one whose size
    it gave (`dermatoscope_photos_remeasure`, by the worker once this commits). Http404 for another
    patient's photo or dermatoscope.
    """
    if dermatoscope is not None and dermatoscope.owner_id != user.pk:
        raise Http404("No such dermatoscope.")
    if isinstance(photo, UploadedFile):
        photo, upload = None, photo
    if photo is not None:
        _own_photo(photo, user)
        with photo.image.open("rb") as fh:
            data = fh.read()
        width, height = _full_size(photo)
    elif upload is not None:
        processed = process_upload(upload)
        data, width, height = processed.jpeg, processed.width, processed.height
    else:
        raise ValidationError({"image": "Send a photo of a ruler taken through the dermatoscope."})
    scale = _ruler_scale(data, width, height, points, distance_mm)
    assert scale.mm_per_pixel is not None and scale.relative_uncertainty is not None  # ok scales have both
    calibration = {
        "mm_per_pixel": scale.mm_per_pixel,
        "relative_uncertainty": scale.relative_uncertainty,
        "calibrated_width": width,
        "calibrated_at": timezone.now(),
    }
    if dermatoscope is None:
        name = (name or "").strip()
        if not name:
            raise ValidationError({"name": DERMATOSCOPE_NAME_NEEDED})
        dermatoscope = Dermatoscope.objects.filter(owner=user, name=name).first() or Dermatoscope(owner=user, name=name)
    existing = dermatoscope.pk is not None
    for key, value in calibration.items():
        setattr(dermatoscope, key, value)
    dermatoscope.full_clean()
    with transaction.atomic():
        dermatoscope.save()
        if existing:
            dermatoscope_photos_remeasure(dermatoscope=dermatoscope)
    return dermatoscope


def dermatoscope_photos_remeasure(*, dermatoscope: Dermatoscope) -> int:
    """Have the owner's photos taken with `dermatoscope` whose size came from it measured again (after it
    was set up again); returns how many photos. A photo sized by a coin, card, ruler or marked points
    keeps its size: the dermatoscope did not give it."""
    from_device = Analysis.objects.filter(status=Analysis.Status.DONE, measures__size__scale__source=DEVICE)
    photos = Photo.objects.filter(
        device=dermatoscope,
        lesion__owner_id=dermatoscope.owner_id,  # a device is its owner's; said again, for safety
        pk__in=from_device.values("photo_id"),
    ).select_related("device")
    count = 0
    for photo in photos:
        size_remeasure_request(photo=photo)
        count += 1
    return count


def dermatoscope_delete(*, dermatoscope: Dermatoscope, user: User) -> None:
    """Forget a dermatoscope; its photos keep the sizes already measured."""
    if dermatoscope.owner_id != user.pk:
        raise Http404("No such dermatoscope.")
    dermatoscope.delete()
