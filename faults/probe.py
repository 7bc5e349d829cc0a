"""What the database says, for the fault suite and the load test (run in its own process).

python -m faults.probe users N PREFIX   create N patients, print their emails (JSON)
python -m faults.probe state            every photo with its analyses and whether its file is stored
python -m faults.probe sweep            run the periodic sweep once, print how many it queued
"""

import json
import os
import sys

PASSWORD = "load-and-faults-Pass-2024"


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skinsite.settings")
    import django

    django.setup()
    from accounts.models import User
    from lesions.models import Photo

    command = argv[0]
    if command == "users":
        count, prefix = int(argv[1]), argv[2]
        emails = [f"{prefix}{n}@example.org" for n in range(count)]
        for n, email in enumerate(emails):
            if not User.objects.filter(email=email).exists():
                User.objects.create_user(
                    email=email, password=PASSWORD, display_name=f"Patient {n}", email_confirmed=True
                )
        print(json.dumps(emails))
    elif command == "seed":
        from pathlib import Path

        from django.core.files.uploadedfile import SimpleUploadedFile

        from lesions import services

        count, prefix, lesions_each = int(argv[1]), argv[2], int(argv[3])
        images = sorted((Path(__file__).resolve().parent.parent / "testdata" / "ham10000").glob("*.jpg"))
        emails = [f"{prefix}{n}@example.org" for n in range(count)]
        for n, email in enumerate(emails):
            user = User.objects.create_user(
                email=email, password=PASSWORD, display_name=f"Patient {n}", email_confirmed=True
            )
            for k in range(lesions_each):
                lesion = services.lesion_create(owner=user, name=f"Mole {k + 1}", body_site="back")
                image = images[(n * lesions_each + k) % len(images)]
                upload = SimpleUploadedFile(image.name, image.read_bytes(), content_type="image/jpeg")
                services.photo_create(lesion=lesion, upload=upload)
        print(json.dumps(emails))
    elif command == "state":
        photos = []
        for photo in Photo.objects.select_related("lesion").prefetch_related("analyses"):
            photos.append(
                {
                    "id": photo.pk,
                    "lesion_id": photo.lesion_id,
                    "stored": photo.image.storage.exists(photo.image.name),
                    "analyses": [
                        {"version": a.model_version, "status": a.status, "attempts": a.attempts}
                        for a in photo.analyses.all()
                    ],
                }
            )
        print(json.dumps({"photos": photos}))
    elif command == "sweep":
        from inference.services import analyses_sweep

        print(json.dumps({"queued": analyses_sweep()}))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
