"""Read-only views of lesions and photos for operators (superusers)."""

from django.contrib import admin

from lesions.models import Dermatoscope, Lesion, Photo
from skinsite.lib.admin import ReadOnlyAdmin


@admin.register(Lesion)
class LesionAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner", "body_site", "created_at"]
    list_filter = ["body_site"]


@admin.register(Photo)
class PhotoAdmin(ReadOnlyAdmin):
    list_display = ["id", "lesion", "taken_at", "uploaded_at", "width", "height"]
    exclude = ["image", "thumbnail"]


@admin.register(Dermatoscope)
class DermatoscopeAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner", "name", "mm_per_pixel", "relative_uncertainty", "calibrated_at"]
