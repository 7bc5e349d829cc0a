"""Content editors manage the education content in the admin, and nothing else."""

import io

import pytest
from django import forms
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from education.models import CONTENT_EDITOR_GROUP, Condition, ExampleImage

pytestmark = pytest.mark.django_db


def _posted_form(response) -> dict:
    """The admin change form's current values, as a browser would post them back (files left as they are)."""
    data: dict = {}

    def add(form) -> None:
        for bound in form:
            if isinstance(bound.field, forms.FileField):
                continue
            value = bound.value()
            if isinstance(bound.field, forms.BooleanField):
                if value:
                    data[bound.html_name] = "on"
                continue
            data[bound.html_name] = "" if value is None else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def test_the_group_holds_exactly_the_education_permissions(shipped):
    group = Group.objects.get(name=CONTENT_EDITOR_GROUP)

    codenames = set(group.permissions.values_list("content_type__app_label", "codename"))

    assert codenames == {
        ("education", f"{action}_{model}")
        for model in ("condition", "exampleimage", "guide", "resource")
        for action in ("view", "add", "change", "delete")
    }


def test_editor_edits_a_condition_and_the_public_page_changes_at_once(client_editor):
    melanoma = Condition.objects.get(code="mel")
    change_url = reverse("admin:education_condition_change", args=[melanoma.pk])
    page = client_editor.get(change_url)
    assert page.status_code == 200
    # Inline thumbnails, and the preview link to the public page.
    for image in melanoma.images.all():
        assert f'src="{image.get_absolute_url()}"' in page.content.decode()
    assert "View on site" in page.content.decode()

    data = _posted_form(page)
    data["summary"] = "An edited summary, checked by a dermatologist."
    data["advice"] = "See a doctor within two weeks.\n\n- new checklist item"
    response = client_editor.post(change_url, data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    public = Client().get(reverse("education:condition", args=["mel"])).content.decode()
    assert "An edited summary, checked by a dermatologist." in public
    assert "<li>new checklist item</li>" in public
    api = Client().get("/api/conditions/mel/").json()
    assert api["summary"] == "An edited summary, checked by a dermatologist."
    # The inlines were posted back untouched.
    assert melanoma.images.count() == 3


def test_editor_cannot_call_melanoma_benign(client_editor):
    melanoma = Condition.objects.get(code="mel")
    change_url = reverse("admin:education_condition_change", args=[melanoma.pk])
    data = _posted_form(client_editor.get(change_url))
    del data["malignant"]

    response = client_editor.post(change_url, data)

    assert response.status_code == 200
    assert "malignant" in response.context["adminform"].form.errors
    assert Condition.objects.get(code="mel").malignant


def test_editor_unpublishes_a_condition_from_the_list(client_editor):
    bcc = Condition.objects.get(code="bcc")

    response = client_editor.post(
        reverse("admin:education_condition_changelist"), {"action": "unpublish", "_selected_action": [bcc.pk]}
    )

    assert response.status_code == 302
    assert Client().get("/learn/bcc/").status_code == 404
    assert client_editor.get("/learn/bcc/").status_code == 200  # staff preview


def test_editor_adds_an_example_image_that_the_public_can_see(client_editor):
    out = io.BytesIO()
    Image.new("RGB", (200, 150), (150, 90, 80)).save(out, format="JPEG")
    df = Condition.objects.get(code="df")

    response = client_editor.post(
        reverse("admin:education_exampleimage_add"),
        {
            "condition": df.pk,
            "image": SimpleUploadedFile("new.jpg", out.getvalue(), content_type="image/jpeg"),
            "caption": "A new example",
            "attribution": "Own photo, CC BY 4.0",
            "order": 9,
        },
    )

    assert response.status_code == 302
    image = ExampleImage.objects.get(caption="A new example")
    assert Client().get(image.get_absolute_url()).status_code == 200
    assert image.get_absolute_url() in Client().get("/learn/df/").content.decode()


PATIENT_DATA_PAGES = [
    ("admin:accounts_user_changelist", None),
    ("admin:accounts_user_add", None),
    ("admin:accounts_user_change", "alice"),
    ("admin:lesions_lesion_changelist", None),
    ("admin:lesions_lesion_change", "lesion"),
    ("admin:lesions_photo_changelist", None),
    ("admin:inference_analysis_changelist", None),
    ("admin:sharing_sharelink_changelist", None),
    ("admin:sharing_physiciannote_changelist", None),
]


@pytest.mark.parametrize(("url_name", "obj"), PATIENT_DATA_PAGES)
def test_editor_gets_403_on_patients_data(request, client_editor, url_name, obj):
    args = [request.getfixturevalue(obj).pk] if obj else []

    assert client_editor.get(reverse(url_name, args=args)).status_code == 403


def test_admin_home_shows_the_editor_only_the_education_models(client_editor):
    html = client_editor.get(reverse("admin:index")).content.decode()

    assert reverse("admin:education_condition_changelist") in html
    assert "/admin/accounts/" not in html
    assert "/admin/lesions/" not in html
    assert "/admin/auth/" not in html


def test_patients_cannot_open_the_admin(client_alice):
    response = client_alice.get(reverse("admin:education_condition_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    "url",
    [
        "/admin/education/condition/",
        "/admin/education/condition/?q=melanoma&published__exact=1&malignant__exact=1",
        "/admin/education/exampleimage/?q=ISIC_0026909",
        "/admin/education/resource/?q=dermnet",
        "/admin/education/guide/",
    ],
)
def test_editor_can_list_search_and_filter_the_content(client_editor, url):
    assert client_editor.get(url).status_code == 200


def test_condition_search_finds_by_text(client_editor):
    response = client_editor.get("/admin/education/condition/", {"q": "pyogenic granuloma"})

    assert [c.code for c in response.context["cl"].result_list] == ["vasc"]
