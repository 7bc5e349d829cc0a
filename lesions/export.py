"""Everything a patient has given us, as one ZIP they can keep or take elsewhere.

    README.txt        what the files are
    account.json      the account
    lesions.json      lesions → photos → every analysis (all model versions), dates in ISO 8601
    photos/<id>.jpg   each stored photo (upright, metadata already stripped at upload)

The ZIP is written to a file, not built in memory: an account can hold hundreds of photos.
"""

import json
import shutil
import zipfile
from datetime import datetime
from typing import IO, Any

from django.db.models import Prefetch
from django.utils import timezone

from accounts.models import User
from inference.models import Analysis
from lesions.models import Dermatoscope, Lesion, Photo
from training.contract import CLASSES

_README = """Skinsite export of {email}, made {exported_at}.

account.json   your account
lesions.json   your lesions, their photos and every analysis of each photo (with the lesion's
               size in mm where the photo had a coin, card, ruler or calibrated dermatoscope)
photos/        the photos, named by the photo ids used in lesions.json

Skinsite informs; it does not diagnose. The probabilities come from a computer model trained on
public research data sets (dermatoscope images and phone photos) and can be wrong, in both directions.
"""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _analysis(analysis: Analysis) -> dict[str, Any]:
    return {
        "model_version": analysis.model_version,
        "status": analysis.status,
        "probabilities": analysis.probabilities,
        "predicted_class": analysis.predicted_class or None,
        "malignant_probability": analysis.malignant_probability,
        "error": analysis.error,
        # The lesion's size in mm on this photo with its uncertainty and scale (null: not measured).
        "size": (analysis.measures or {}).get("size"),
        "created_at": _iso(analysis.created_at),
        "finished_at": _iso(analysis.finished_at),
    }


def _photo(photo: Photo, image: str | None) -> dict[str, Any]:
    return {
        "id": photo.pk,
        "taken_at": _iso(photo.taken_at),
        "uploaded_at": _iso(photo.uploaded_at),
        "width": photo.width,
        "height": photo.height,
        "sha256_of_upload": photo.sha256,
        "image": image,
        "coin_diameter_mm": photo.coin_diameter_mm,
        "dermatoscope": photo.device.name if photo.device else None,
        "manual_scale": photo.manual_scale,
        "analyses": [_analysis(a) for a in photo.analyses.all()],
    }


def _copy_image(archive: zipfile.ZipFile, photo: Photo) -> str | None:
    """Copy the photo into the archive; None if storage lost it (the rest of the export still goes)."""
    name = f"photos/{photo.pk}.jpg"
    try:
        with photo.image.open("rb") as source, archive.open(name, "w") as target:
            shutil.copyfileobj(source, target, length=1024 * 1024)
    except (FileNotFoundError, ValueError):
        return None
    return name


def account_export(*, user: User, out: IO[bytes]) -> None:
    """Write a ZIP of the user's account, lesions, photos (JPEG) and analyses (JSON) to `out`."""
    lesions = (
        Lesion.objects.filter(owner=user)
        .order_by("created_at", "id")
        .prefetch_related(
            Prefetch("photos", queryset=Photo.objects.order_by("taken_at", "id").select_related("device")),
            Prefetch("photos__analyses", queryset=Analysis.objects.order_by("created_at", "id")),
        )
    )
    exported_at = timezone.now()
    # JPEGs are already compressed: store them; deflate only the text.
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        lesion_rows = []
        for lesion in lesions:
            photos = [_photo(photo, _copy_image(archive, photo)) for photo in lesion.photos.all()]
            lesion_rows.append(
                {
                    "id": lesion.pk,
                    "name": lesion.name,
                    "body_site": lesion.body_site,
                    "notes": lesion.notes,
                    "created_at": _iso(lesion.created_at),
                    "photos": photos,
                }
            )
        account = {
            "email": user.email,
            "display_name": user.display_name,
            "birth_year": user.birth_year,
            "sex": user.sex or None,
            "coin": user.coin or None,
            "coin_diameter_mm": user.coin_diameter_mm,
            "dermatoscopes": [
                {
                    "name": d.name,
                    "mm_per_pixel": d.mm_per_pixel,
                    "relative_uncertainty": d.relative_uncertainty,
                    "calibrated_width": d.calibrated_width,
                    "calibrated_at": _iso(d.calibrated_at),
                }
                for d in Dermatoscope.objects.filter(owner=user).order_by("name", "id")
            ],
            "date_joined": _iso(user.date_joined),
            "exported_at": _iso(exported_at),
            "classes": list(CLASSES),
        }
        texts = {
            "README.txt": _README.format(email=user.email, exported_at=_iso(exported_at)),
            "account.json": json.dumps(account, indent=2, ensure_ascii=False),
            "lesions.json": json.dumps(lesion_rows, indent=2, ensure_ascii=False),
        }
        for name, text in texts.items():
            archive.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
