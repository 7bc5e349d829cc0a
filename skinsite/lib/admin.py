"""What every app's admin shares."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Operators may look at patient data; nobody edits it in the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    # Deleting here would skip the services (files left in storage, no cascade of our own) and
    # patients' data is theirs to delete, from their account.
    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
