"""Read-only views of share links, their access log and physicians' notes for operators (superusers)."""

from django.contrib import admin

from sharing.models import PhysicianNote, ShareAccess, ShareLink
from skinsite.lib.admin import ReadOnlyAdmin


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
