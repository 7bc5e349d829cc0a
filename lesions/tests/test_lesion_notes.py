"""A lesion's notes have a length limit, said the same way on the web, over the API and in the services."""

import pytest
from django.core.exceptions import ValidationError

from lesions import services
from lesions.models import NOTES_MAX_LENGTH, Lesion

pytestmark = pytest.mark.django_db

TOO_LONG = "x" * (NOTES_MAX_LENGTH + 1)
MESSAGE = f"Keep your notes to {NOTES_MAX_LENGTH} characters or fewer (these have {NOTES_MAX_LENGTH + 1})."


def test_the_api_refuses_notes_over_the_limit(api_alice, lesion):
    response = api_alice.patch(f"/api/lesions/{lesion.pk}/", {"notes": TOO_LONG}, format="json")
    assert response.status_code == 400
    assert response.json() == {"notes": [MESSAGE]}
    created = api_alice.post("/api/lesions/", {"name": "Calf", "notes": "y" * 2_000_000}, format="json")
    assert created.status_code == 400 and "notes" in created.json()
    lesion.refresh_from_db()
    assert lesion.notes == "" and Lesion.objects.count() == 1


def test_notes_up_to_the_limit_are_kept(api_alice, lesion):
    response = api_alice.patch(f"/api/lesions/{lesion.pk}/", {"notes": "x" * NOTES_MAX_LENGTH}, format="json")
    assert response.status_code == 200 and len(response.json()["notes"]) == NOTES_MAX_LENGTH


def test_the_web_form_says_what_is_wrong(client_alice, lesion):
    response = client_alice.post(
        f"/lesions/{lesion.pk}/edit/", {"name": lesion.name, "body_site": lesion.body_site, "notes": TOO_LONG}
    )
    assert response.status_code in (200, 400)
    assert MESSAGE in response.content.decode()
    lesion.refresh_from_db()
    assert lesion.notes == ""


def test_the_services_refuse_them_too(alice):
    with pytest.raises(ValidationError) as refused:
        services.lesion_create(owner=alice, name="Calf", notes=TOO_LONG)
    assert refused.value.message_dict == {"notes": [MESSAGE]}
