"""Where content editors keep the guide right: conditions with their images and links, and the guides.

Editors are staff users in the "Content editor" group (see migration 0003); every page here has a
"View on site" link to its public page, which staff can open even while it is unpublished.
"""

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from education.models import Condition, ExampleImage, Guide, Resource
from skinsite.admin import LabelledInlineFormSet, LabelledModelFormSet


def _thumbnail(image: ExampleImage) -> str:
    if not image.pk or not image.image:
        return "—"
    return format_html(
        '<img src="{}" alt="" style="height:75px;width:auto;border-radius:4px">', image.get_absolute_url()
    )


def _public_link(obj: Condition | Guide) -> str:
    return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.get_absolute_url())


class ExampleImageInline(admin.TabularInline):
    model = ExampleImage
    formset = LabelledInlineFormSet
    extra = 0
    fields = ["thumbnail", "image", "caption", "attribution", "order"]
    readonly_fields = ["thumbnail"]
    ordering = ["order", "id"]

    @admin.display(description="Preview")
    def thumbnail(self, obj: ExampleImage) -> str:
        return _thumbnail(obj)


# Links without a scheme are taken as https (Django 6's default), not http.
URL_FIELD: dict[type[models.Field], dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


class ResourceInline(admin.TabularInline):
    model = Resource
    formset = LabelledInlineFormSet
    formfield_overrides = URL_FIELD
    extra = 0
    fields = ["title", "url", "publisher", "order"]
    ordering = ["order", "id"]


class PublishActions(admin.ModelAdmin):
    """An admin that publishes and unpublishes several pages at once from the list."""

    actions = ["publish", "unpublish"]

    class Media:
        css = {"all": ["skinsite/admin.css"]}  # the admin's few accessibility fixes

    def get_changelist_formset(self, request: HttpRequest, **kwargs: Any) -> Any:
        # The editable columns (order, published) get a name per row.
        return super().get_changelist_formset(request, formset=LabelledModelFormSet, **kwargs)

    @admin.action(description="Publish the selected pages", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.update(published=True)
        self.message_user(request, f"{count} page(s) published.", messages.SUCCESS)

    @admin.action(description="Unpublish the selected pages (staff can still preview them)", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.update(published=False)
        self.message_user(request, f"{count} page(s) unpublished.", messages.SUCCESS)


@admin.register(Condition)
class ConditionAdmin(PublishActions):
    list_display = ["name", "code", "malignant", "order", "published", "image_count", "updated_at", "public_page"]
    list_display_links = ["name"]
    list_editable = ["order", "published"]
    list_filter = ["published", "malignant"]
    search_fields = ["code", "name", "summary", "description", "advice"]
    ordering = ["order", "code"]
    inlines = [ExampleImageInline, ResourceInline]
    readonly_fields = ["updated_at"]
    fieldsets = (
        (None, {"fields": ("code", "name", "malignant", "summary", "published", "order", "updated_at")}),
        ("Page", {"fields": ("description", "advice")}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Condition | None = None) -> list[str]:
        # The code ties the page to the model's class names; changing it would break every link to it.
        return [*self.readonly_fields, "code"] if obj else list(self.readonly_fields)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Condition]:
        return super().get_queryset(request).prefetch_related("images")

    @admin.display(description="Images")
    def image_count(self, obj: Condition) -> int:
        return len(obj.images.all())

    @admin.display(description="Public page")
    def public_page(self, obj: Condition) -> str:
        return _public_link(obj)


@admin.register(Guide)
class GuideAdmin(PublishActions):
    list_display = ["title", "slug", "order", "published", "updated_at", "public_page"]
    list_editable = ["order", "published"]
    list_filter = ["published"]
    search_fields = ["title", "slug", "summary", "body"]
    ordering = ["order", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ResourceInline]
    readonly_fields = ["updated_at"]

    @admin.display(description="Public page")
    def public_page(self, obj: Guide) -> str:
        return _public_link(obj)


@admin.register(ExampleImage)
class ExampleImageAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "caption", "condition", "order"]
    list_display_links = ["thumbnail", "caption"]
    list_filter = ["condition"]
    search_fields = ["caption", "attribution", "condition__name", "condition__code"]
    ordering = ["condition__order", "order", "id"]
    list_select_related = ["condition"]
    fields = ["condition", "thumbnail", "image", "caption", "attribution", "order"]
    readonly_fields = ["thumbnail"]

    @admin.display(description="Preview")
    def thumbnail(self, obj: ExampleImage) -> str:
        return _thumbnail(obj)


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELD
    list_display = ["title", "publisher", "page", "url", "order"]
    list_filter = ["publisher", "condition", "guide"]
    search_fields = ["title", "publisher", "url"]
    ordering = ["condition__order", "guide__order", "order", "id"]
    list_select_related = ["condition", "guide"]

    @admin.display(description="Shown on")
    def page(self, obj: Resource) -> str:
        return str(obj.condition or obj.guide or "Overview (general)")
