"""Read-only view of analyses for operators (superusers): to see stuck or failed ones."""

from django.contrib import admin

from inference.models import Analysis
from skinsite.lib.admin import ReadOnlyAdmin


@admin.register(Analysis)
class AnalysisAdmin(ReadOnlyAdmin):
    list_display = ["id", "photo", "model_version", "status", "predicted_class", "attempts", "finished_at"]
    list_filter = ["status", "model_version"]
