"""The restore drill's steps, run as `python -m backups.drill STEP` in a site's own environment.

Each step is a separate process on the database and storage its environment names
(DATABASE_URL, MEDIA_ROOT or AWS_*), as an operator's commands would be: `seed` fills the site
with patients, lesions, photos, finished analyses with heatmaps, share links, physicians' notes,
API tokens and two-factor devices; `snapshot` writes every table's rows and every stored file's
checksum to a JSON file; `login` logs a patient in (password, then the authenticator code) and
opens a photo. backups/tests/test_restore_drill.py and evaluation/restore.py drive them.
"""

import argparse
import hashlib
import io
import json
import os
import sys
from typing import Any

PASSWORD = "drill-horse-battery-9"
TOTP_KEY = "3132333435363738393031323334353637383930"  # fixed, so the drill can make codes


def _jpeg(size: tuple[int, int], seed: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (180 + seed % 40, 120 + seed % 30, 100))
    ImageDraw.Draw(image).ellipse(
        (size[0] // 3, size[1] // 3, 2 * size[0] // 3, 2 * size[1] // 3), fill=(60 + seed % 50, 40, 30)
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def seed(*, patients: int, photos: int, size: tuple[int, int]) -> dict[str, Any]:
    """`patients` patients sharing `photos` photos between them, 3 photos a lesion; returns ids."""
    from django.core.files.base import ContentFile
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts import services as account_services
    from accounts import two_factor
    from accounts.tokens import token_create
    from inference.models import Analysis
    from lesions import services as lesion_services
    from sharing import services as sharing_services
    from training.contract import CLASSES

    users = []
    for p in range(patients):
        user = account_services.user_sign_up(email=f"patient{p}@drill.example", password=PASSWORD)
        assert user is not None  # a new address in an empty database
        user.display_name = f"Patient {p}"
        user.email_confirmed = True
        user.save()
        token_create(user=user, name="phone")
        device = TOTPDevice.objects.create(user=user, name="app", confirmed=False, key=TOTP_KEY)
        two_factor.two_factor_enable(user=user, device=device, code=_totp(device))
        users.append(user)
    photo_ids = []
    lesions_by_user: dict[int, list[Any]] = {}
    for n in range(photos):
        user = users[n % patients]
        owned = lesions_by_user.setdefault(user.pk, [])
        if not owned or owned[-1].photos.count() >= 3:
            name = f"Mole {len(owned) + 1}"
            owned.append(lesion_services.lesion_create(owner=user, name=name, body_site="back", notes="drill"))
        lesion = owned[-1]
        upload = SimpleUploadedFile(f"mole{n}.jpg", _jpeg(size, n), content_type="image/jpeg")
        photo = lesion_services.photo_create(lesion=lesion, upload=upload)
        analysis = photo.analyses.get()
        values = dict.fromkeys(CLASSES, 0.02) | {"nv": 0.8, "mel": 0.08}
        for code, value in values.items():
            setattr(analysis, f"p_{code}", value)
        analysis.predicted_class = "nv"
        analysis.malignant_probability = values["akiec"] + values["bcc"] + values["mel"]
        analysis.status = Analysis.Status.DONE
        analysis.measures = {"ok": True, "values": {"asymmetry": 0.1 + n % 7 / 100}}
        analysis.heatmap.save("heatmap.jpg", ContentFile(_jpeg((size[0] // 2, size[1] // 2), n + 1)), save=False)
        analysis.save()
        photo_ids.append(photo.pk)
    for user in users:
        lesion = lesions_by_user[user.pk][0]
        link, _token = sharing_services.share_link_create(
            owner=user, lesion=lesion, physician_email="dr@clinic.example", message="Please look"
        )
        sharing_services.share_access_record(share=link)
        sharing_services.physician_note_create(share=link, lesion=lesion, body="Re-photograph in 3 months.")
    return {"emails": [u.email for u in users], "photo_ids": photo_ids}


def _totp(device: Any, offset: int = 0) -> str:
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


def snapshot() -> dict[str, Any]:
    """Every table's rows (sorted, as text) and every stored file's SHA-256."""
    from django.core.files.storage import default_storage
    from django.db import connection

    from backups import database
    from backups.services import stored_file_names

    tables = {}
    with connection.cursor() as cursor:
        for table in database.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            tables[table] = sorted(repr(tuple(row)) for row in cursor.fetchall())
    files = {}
    for name in stored_file_names():
        with default_storage.open(name, "rb") as stored:
            files[name] = hashlib.sha256(stored.read()).hexdigest()
    return {"tables": tables, "files": files}


def login(*, email: str, photo_id: int) -> dict[str, Any]:
    """Log in as a patient would (password, then the authenticator's code) and open a photo."""
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from lesions.models import Photo

    client = Client()
    password = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    # The next step's code (within the allowed drift): seeding used this step's, which is spent.
    code = _totp(TOTPDevice.objects.get(user__email=email), offset=30)
    second = client.post("/accounts/login/code/", {"code": code})
    response = client.get(f"/lesions/photos/{photo_id}/image/")
    body = response.getvalue()
    return {
        "password_step": password.status_code,
        "code_step": second.status_code,
        "code_step_location": second.get("Location", ""),
        "photo_status": response.status_code,
        "photo_sha256": hashlib.sha256(body).hexdigest(),
        "stored_file_sha256": hashlib.sha256(Photo.objects.get(pk=photo_id).image.read()).hexdigest(),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m backups.drill")
    parser.add_argument("step", choices=["seed", "snapshot", "login"])
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--patients", type=int, default=3)
    parser.add_argument("--photos", type=int, default=9)
    parser.add_argument("--size", type=int, nargs=2, default=(200, 150))
    parser.add_argument("--email", default="patient0@drill.example")
    parser.add_argument("--photo-id", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skinsite.settings")
    import django

    django.setup()
    if args.step == "seed":
        result = seed(patients=args.patients, photos=args.photos, size=tuple(args.size))
    elif args.step == "snapshot":
        result = snapshot()
    else:
        result = login(email=args.email, photo_id=args.photo_id)
    with open(args.out, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main(sys.argv[1:])
