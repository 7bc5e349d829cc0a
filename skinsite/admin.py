"""The admin site: one log-in for everyone, the site's own (rate-limited, with two-factor).

/admin/login/ shows no password form of its own, so there is no second door to guess
passwords at; it sends the browser to /accounts/login/ and back. Only a staff session verified
with a two-factor code gets in; a staff account without two-factor is sent to set it up.
"""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig
from django.forms.models import BaseInlineFormSet, BaseModelFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


class SkinsiteAdminSite(admin.AdminSite):
    site_header = "Skinsite administration"

    def has_permission(self, request: HttpRequest) -> bool:
        verified = getattr(request.user, "is_verified", lambda: False)()
        return super().has_permission(request) and verified

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:index", current_app=self.name)
        query = urlencode({"next": next_url})
        if request.user.is_active and request.user.is_staff:
            # Logged in with a password alone: the code is what is missing, not the password. The
            # two-factor page sends the person back here once the session is verified.
            messages.warning(request, "The admin needs two-factor authentication: verify this session with a code.")
            return HttpResponseRedirect(f"{reverse('two-factor')}?{query}")
        return HttpResponseRedirect(f"{reverse('login')}?{query}")


class SkinsiteAdminConfig(AdminConfig):
    default_site = "skinsite.admin.SkinsiteAdminSite"


def _name_row_inputs(form: forms.BaseModelForm, index: int | None) -> None:
    """Give each input of a table row its own accessible name ("Order, Melanoma").

    A tabular inline or an editable change list shows a field's label only as its column
    header, which names no input for a screen reader (axe: "Form elements must have labels").
    """
    row = str(form.instance) if form.instance.pk else f"new row {index + 1}" if index is not None else "new row"
    for name, field in form.fields.items():
        field.widget.attrs.setdefault("aria-label", f"{form[name].label}, {row}")


class LabelledInlineFormSet(BaseInlineFormSet):
    """For a `TabularInline`'s `formset`: every input in its rows is named."""

    def add_fields(self, form: forms.BaseModelForm, index: int | None) -> None:
        super().add_fields(form, index)
        _name_row_inputs(form, index)


class LabelledModelFormSet(BaseModelFormSet):
    """For a change list's `list_editable` columns (`get_changelist_formset(formset=...)`)."""

    def add_fields(self, form: forms.BaseModelForm, index: int | None) -> None:
        super().add_fields(form, index)
        _name_row_inputs(form, index)
