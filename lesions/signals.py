"""Image files leave storage with their rows, however the rows were deleted.

A photo can go on its own, with its lesion, or with the whole account (cascades); a post_delete
receiver is the one place all three pass through. The files are removed only after the
transaction commits, so a rolled-back delete never loses a photo.
"""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from lesions.models import Analysis, Photo


@receiver(post_delete, sender=Photo, dispatch_uid="lesions.photo_files_cleanup")
def _delete_photo_files(sender, instance: Photo, **kwargs) -> None:
    for field in (instance.image, instance.thumbnail):
        if field.name:
            storage, name = field.storage, field.name
            transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))


@receiver(post_delete, sender=Analysis, dispatch_uid="lesions.analysis_heatmap_cleanup")
def _delete_analysis_heatmap(sender, instance: Analysis, **kwargs) -> None:
    # Photos cascade to their analyses, so this also runs when a photo, lesion or account goes.
    if instance.heatmap.name:
        storage, name = instance.heatmap.storage, instance.heatmap.name
        transaction.on_commit(lambda: storage.delete(name))
