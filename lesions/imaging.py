"""Turning an uploaded file into the JPEG we store: verified, upright, pixels only.

Phones write GPS coordinates into EXIF, and JPEG comments and XMP can carry names and addresses,
so nothing of the original's metadata survives; only the capture time is read out first.
Everything that can go wrong raises `InvalidImage` with a message meant for the patient.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()

ACCEPTED_FORMATS = {"JPEG", "PNG", "HEIF", "MPO"}  # MPO: multi-picture JPEGs from some phones
ACCEPTED_DESCRIPTION = "JPEG, PNG or HEIC"
THUMBNAIL_SIZE = (320, 320)
JPEG_QUALITY = 92
MIN_SIDE = 32


class InvalidImage(ValidationError):
    """The upload cannot be stored as a photo; the message says why, for the patient (under `image`)."""

    def __init__(self, message: str):
        super().__init__({"image": [message]})


@dataclass(frozen=True)
class ProcessedImage:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    sha256: str
    taken_at: datetime | None


def _read_capture_time(image: Image.Image) -> datetime | None:
    exif = image.getexif()
    raw = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if not raw:
        return None
    try:
        naive = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    # EXIF has no time zone; the camera's local time is the best guess we have.
    aware = timezone.make_aware(naive, timezone.get_current_timezone())
    return aware if aware <= timezone.now() else None


def process_upload(upload: UploadedFile) -> ProcessedImage:
    """Verify an uploaded image and return its cleaned JPEG, thumbnail and facts."""
    max_bytes = settings.MAX_UPLOAD_MB * 1024 * 1024
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise InvalidImage(
            f"The file is too large ({size / 1024 / 1024:.1f} MB); the limit is {settings.MAX_UPLOAD_MB} MB."
        )
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if not data:
        raise InvalidImage("The file is empty.")
    if len(data) > max_bytes:
        raise InvalidImage(f"The file is too large; the limit is {settings.MAX_UPLOAD_MB} MB.")

    Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x the limit; we refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise InvalidImage(
                        f"This is a {probe.format or 'unknown'} image; please upload a {ACCEPTED_DESCRIPTION} photo."
                    )
                probe.verify()  # structure and checksums, without decoding pixels
            # verify() leaves the image unusable; open again to decode every pixel.
            with Image.open(io.BytesIO(data)) as image:
                taken_at = _read_capture_time(image)
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(
            f"The image has too many pixels (the limit is {settings.MAX_IMAGE_PIXELS // 1_000_000} megapixels)."
        ) from None
    except UnidentifiedImageError:
        raise InvalidImage(
            f"This file is not an image we can read; please upload a {ACCEPTED_DESCRIPTION} photo."
        ) from None
    except InvalidImage:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage(f"The image file is damaged or incomplete and could not be read ({exc}).") from None

    if min(upright.size) < MIN_SIDE:
        raise InvalidImage(
            f"The image is too small ({upright.width}x{upright.height}); it needs at least {MIN_SIDE} px a side."
        )
    rgb = upright.convert("RGB")  # drops alpha and palettes; the model works on RGB
    # Pixels only: convert() copies `info`, and Pillow writes its JPEG comment and XMP (and
    # more, version by version) back out on save. A comment can hold a name and an address.
    rgb.info = {}

    out = io.BytesIO()
    # No exif= argument: the stored copy carries no metadata at all.
    rgb.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    thumb = rgb.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, format="JPEG", quality=85, optimize=True)
    return ProcessedImage(
        jpeg=out.getvalue(),
        thumbnail=thumb_out.getvalue(),
        width=rgb.width,
        height=rgb.height,
        sha256=hashlib.sha256(data).hexdigest(),
        taken_at=taken_at,
    )
