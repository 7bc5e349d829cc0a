"""Queue analyses by the installed model for photos that do not have one yet.

After a new model is installed, older photos keep their old results (each analysis records its
model version) and gain a new one; the timeline shows the installed model's results.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from inference.models import analysed_photo, photo_model
from inference.services import MODEL_MISSING_VERSION, analysis_request, current_model_version


class Command(BaseCommand):
    help = "Analyse existing photos with the installed model, keeping earlier models' results."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model-version",
            help="Expected version of the installed model (a safety check); defaults to whatever is installed.",
        )
        parser.add_argument("--user", help="Only this user's photos (email address).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be queued, queue nothing.")

    def handle(self, *args: Any, model_version: str | None, user: str | None, dry_run: bool, **options: Any) -> None:
        installed = current_model_version()
        if installed == MODEL_MISSING_VERSION:
            raise CommandError("No model is installed (no readable model_card.json in MODEL_DIR).")
        if model_version and model_version != installed:
            raise CommandError(
                f"The installed model is {installed}, not {model_version}. Workers analyse with the installed "
                "model only: install that version first (MODEL_DIR), then run this again."
            )
        photos = photo_model()._default_manager.exclude(analyses__model_version=installed)
        if user:
            photos = photos.filter(lesion__owner__email=user.lower())
        count = photos.count()
        if dry_run:
            self.stdout.write(f"{count} photos would be analysed with {installed}.")
            return
        for photo in photos.iterator():
            with transaction.atomic():
                analysis_request(photo=analysed_photo(photo), model_version=installed)
        self.stdout.write(self.style.SUCCESS(f"Queued {count} photos for analysis with {installed}."))
