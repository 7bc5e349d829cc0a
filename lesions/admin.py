"""Read-only views of lesions and photos for operators (superusers)."""

from django.contrib import admin

from lesions.models import Lesion, Photo


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    # Deleting here would skip the services (files left in storage, no cascade of our own) and
    # patients' data is theirs to delete, from their account.
    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Lesion)
class LesionAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner", "body_site", "created_at"]
    list_filter = ["body_site"]


@admin.register(Photo)
class PhotoAdmin(ReadOnlyAdmin):
    list_display = ["id", "lesion", "taken_at", "uploaded_at", "width", "height"]
    exclude = ["image", "thumbnail"]
