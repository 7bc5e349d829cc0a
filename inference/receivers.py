"""A heatmap file leaves storage with its analysis row, however the row was deleted.

Photos cascade to their analyses, so this also runs when a photo, lesion or account goes. The
file is removed only after the transaction commits, so a rolled-back delete never loses it; a
storage error is retried by lesions.tasks.delete_stored_files.
"""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from inference.models import Analysis
from lesions.tasks import stored_files_delete_after_commit


@receiver(post_delete, sender=Analysis, dispatch_uid="inference.analysis_heatmap_cleanup")
def _delete_analysis_heatmap(sender, instance: Analysis, **kwargs) -> None:
    # After the commit; a storage error is retried by a task (see lesions.storage).
    stored_files_delete_after_commit([instance.heatmap.name])
