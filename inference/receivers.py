"""A heatmap file leaves storage with its analysis row, however the row was deleted.

Photos cascade to their analyses, so this also runs when a photo, lesion or account goes. The
file is removed only after the transaction commits, so a rolled-back delete never loses it.
"""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from inference.models import Analysis


@receiver(post_delete, sender=Analysis, dispatch_uid="inference.analysis_heatmap_cleanup")
def _delete_analysis_heatmap(sender, instance: Analysis, **kwargs) -> None:
    if instance.heatmap.name:
        storage, name = instance.heatmap.storage, instance.heatmap.name
        transaction.on_commit(lambda: storage.delete(name))
