"""Read-only views of patient data for operators (superusers): to see stuck or failed analyses."""

from django.contrib import admin

from lesions.models import Analysis, Lesion, Photo, PhysicianNote, ShareAccess, ShareLink


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


@admin.register(Analysis)
class AnalysisAdmin(ReadOnlyAdmin):
    list_display = ["id", "photo", "model_version", "status", "predicted_class", "attempts", "finished_at"]
    list_filter = ["status", "model_version"]


@admin.register(ShareLink)
class ShareLinkAdmin(ReadOnlyAdmin):
    # The token itself is never stored; its hash is no use to an operator either.
    list_display = ["id", "owner", "lesion", "physician_email", "created_at", "expires_at", "revoked_at"]
    exclude = ["token_hash"]
    search_fields = ["physician_email", "owner__email"]


@admin.register(ShareAccess)
class ShareAccessAdmin(ReadOnlyAdmin):
    list_display = ["id", "share", "kind", "accessed_at"]
    list_filter = ["kind"]


@admin.register(PhysicianNote)
class PhysicianNoteAdmin(ReadOnlyAdmin):
    list_display = ["id", "lesion", "author_email", "created_at"]
