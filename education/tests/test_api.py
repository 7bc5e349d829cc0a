"""The public, read-only API: GET /api/conditions/ and GET /api/conditions/{code}/."""

import pytest
from rest_framework.test import APIClient

from education.models import Condition
from training.contract import CLASSES, MALIGNANT_CLASSES

pytestmark = pytest.mark.django_db

FIELDS = {
    "code",
    "name",
    "malignant",
    "summary",
    "description",
    "advice",
    "page_url",
    "images",
    "resources",
    "updated_at",
}


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def test_list_needs_no_login_and_has_the_seven_conditions(api, shipped):
    response = api.get("/api/conditions/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7 and body["next"] is None
    data = body["results"]
    assert sorted(c["code"] for c in data) == sorted(CLASSES)
    assert [c["code"] for c in data] == list(Condition.objects.values_list("code", flat=True))  # display order
    for condition in data:
        assert set(condition) == FIELDS
        assert condition["malignant"] is (condition["code"] in MALIGNANT_CLASSES)
        assert len(condition["images"]) >= 2
        assert len(condition["resources"]) >= 2


def test_detail_has_the_images_and_links(api, shipped):
    response = api.get("/api/conditions/bcc/")

    assert response.status_code == 200
    data = response.json()
    assert data["code"] == "bcc"
    assert data["name"] == "Basal cell carcinoma"
    assert data["malignant"] is True
    assert data["page_url"] == "http://testserver/learn/bcc/"
    for image in data["images"]:
        assert set(image) == {"url", "caption", "attribution"}
        assert image["url"].startswith("http://testserver/learn/images/")
        assert "HAM10000" in image["attribution"]
        assert api.get(image["url"]).status_code == 200
    for resource in data["resources"]:
        assert set(resource) == {"title", "url", "publisher"}
        assert resource["url"].startswith("https://")


def test_unknown_code_is_404(api, shipped):
    assert api.get("/api/conditions/scc/").status_code == 404


def test_unpublished_condition_is_not_in_the_api(api, shipped):
    Condition.objects.filter(code="vasc").update(published=False)

    assert api.get("/api/conditions/vasc/").status_code == 404
    assert "vasc" not in [c["code"] for c in api.get("/api/conditions/").json()["results"]]


def test_a_stale_token_does_not_block_public_content(api, shipped):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert api.get("/api/conditions/").status_code == 200
    assert api.get("/api/conditions/nv/").status_code == 200


def test_it_is_read_only(api_alice, shipped):
    assert api_alice.post("/api/conditions/", {"code": "scc"}, format="json").status_code == 405
    assert api_alice.put("/api/conditions/nv/", {"name": "x"}, format="json").status_code == 405
    assert api_alice.patch("/api/conditions/nv/", {"name": "x"}, format="json").status_code == 405
    assert api_alice.delete("/api/conditions/nv/").status_code == 405
    assert Condition.objects.get(code="nv").name == "Melanocytic nevus (mole)"
