"""Read-only views of patient data for operators (superusers): to see stuck or failed analyses."""

from django.contrib import admin

from lesions.models import Analysis, Lesion, Photo


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Lesion)
class LesionAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner", "body_site", "created_at"]
    list_filter = ["body_site"]


@admin.register(Photo)
class PhotoAdmin(ReadOnlyAdmin):
    list_display = ["id", "lesion", "taken_at", "uploaded_at", "width", "height"]
    exclude = ["image", "thumbnail"]


@admin.register(Analysis)
class AnalysisAdmin(ReadOnlyAdmin):
    list_display = ["id", "photo", "model_version", "status", "predicted_class", "attempts", "finished_at"]
    list_filter = ["status", "model_version"]
