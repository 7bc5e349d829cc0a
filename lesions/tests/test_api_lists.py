"""Lists over the API: paginated, photos filtered by lesion, date range and status, ordered on request."""

import pytest
from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, upload
from inference.models import Analysis
from lesions import services
from lesions.models import Lesion

pytestmark = pytest.mark.django_db


def _photo(lesion: Lesion, taken_at: str, color=(180, 120, 100)):
    return services.photo_create(
        lesion=lesion, upload=upload(jpeg_bytes(color=color)), taken_at=timezone.datetime.fromisoformat(taken_at)
    )


@pytest.fixture
def photos(alice, lesion):
    """Alice's photos: three of her shoulder (Jan, Mar, May 2024), one of her calf (Feb 2024)."""
    calf = services.lesion_create(owner=alice, name="Calf", body_site="lower extremity")
    return {
        "jan": _photo(lesion, "2024-01-10T09:00:00+00:00"),
        "mar": _photo(lesion, "2024-03-10T09:00:00+00:00", (90, 60, 50)),
        "may": _photo(lesion, "2024-05-10T09:00:00+00:00", (60, 40, 30)),
        "calf": _photo(calf, "2024-02-10T09:00:00+00:00", (30, 20, 10)),
    }


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_lesion_list_is_paginated_with_a_count_and_links(api_alice, alice):
    for n in range(30):
        services.lesion_create(owner=alice, name=f"Mole {n}")

    first = api_alice.get("/api/lesions/").json()
    assert first["count"] == 30
    assert len(first["results"]) == 25  # API_PAGE_SIZE
    assert first["previous"] is None and "page=2" in first["next"]
    second = api_alice.get(first["next"]).json()
    assert len(second["results"]) == 5 and second["next"] is None

    small = api_alice.get("/api/lesions/?page_size=4&page=2").json()
    assert len(small["results"]) == 4
    assert len(api_alice.get("/api/lesions/?page_size=1000").json()["results"]) == 30  # at most 100 a page
    assert api_alice.get("/api/lesions/?page=99").status_code == 404


def test_lesions_can_be_ordered_by_name(api_alice, alice):
    for name in ("Beta", "Alpha", "Gamma"):
        services.lesion_create(owner=alice, name=name)
    names = [row["name"] for row in api_alice.get("/api/lesions/?ordering=name").json()["results"]]
    assert names == ["Alpha", "Beta", "Gamma"]
    newest_first = [row["name"] for row in api_alice.get("/api/lesions/").json()["results"]]
    assert newest_first == ["Gamma", "Alpha", "Beta"]


def test_photo_list_filters_by_lesion_and_date_range(api_alice, lesion, photos):
    assert _ids(api_alice.get("/api/photos/")) == [
        p.pk for p in (photos["jan"], photos["calf"], photos["mar"], photos["may"])
    ]
    assert _ids(api_alice.get(f"/api/photos/?lesion={lesion.pk}")) == [photos[k].pk for k in ("jan", "mar", "may")]
    in_range = api_alice.get("/api/photos/?taken_after=2024-02-01T00:00:00Z&taken_before=2024-04-01T00:00:00Z")
    assert _ids(in_range) == [photos["calf"].pk, photos["mar"].pk]
    assert _ids(api_alice.get(f"/api/photos/?lesion={lesion.pk}&taken_after=2024-02-01")) == [
        photos["mar"].pk,
        photos["may"].pk,
    ]


def test_photo_list_filters_by_analysis_status(api_alice, photos):
    finish_analysis(photos["mar"])
    finish_analysis(photos["may"], status="failed")
    assert _ids(api_alice.get("/api/photos/?status=done")) == [photos["mar"].pk]
    assert _ids(api_alice.get("/api/photos/?status=failed")) == [photos["may"].pk]
    assert _ids(api_alice.get("/api/photos/?status=pending")) == [photos["jan"].pk, photos["calf"].pk]
    done = api_alice.get("/api/photos/?status=done").json()["results"][0]
    assert done["analysis"]["status"] == Analysis.Status.DONE


def test_photo_list_can_be_ordered_newest_first(api_alice, photos):
    expected = [photos[k].pk for k in ("may", "mar", "calf", "jan")]
    assert _ids(api_alice.get("/api/photos/?ordering=-taken_at")) == expected


@pytest.mark.parametrize(
    "query", ["taken_after=yesterday", "status=lost", "lesion=abc", "taken_before=2024-13-45"], ids=str
)
def test_bad_filters_answer_400_with_the_field_named(api_alice, photos, query):
    response = api_alice.get(f"/api/photos/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_filters_never_reach_other_users_photos(api_bob, lesion, photos):
    assert _ids(api_bob.get("/api/photos/")) == []
    assert _ids(api_bob.get(f"/api/photos/?lesion={lesion.pk}")) == []


def test_a_lesions_photos_and_history_are_paginated_in_taken_at_order(api_alice, lesion, photos):
    photo_page = api_alice.get(f"/api/lesions/{lesion.pk}/photos/?page_size=2").json()
    assert photo_page["count"] == 3
    assert [row["id"] for row in photo_page["results"]] == [photos["jan"].pk, photos["mar"].pk]
    history = api_alice.get(f"/api/lesions/{lesion.pk}/history/").json()
    assert [row["photo_id"] for row in history["results"]] == [photos[k].pk for k in ("jan", "mar", "may")]


def test_a_photo_is_found_by_id_whatever_the_query_string(api_alice, photos):
    # Filters narrow lists only; they never turn a detail request into a 404.
    assert api_alice.get(f"/api/photos/{photos['jan'].pk}/?status=done").status_code == 200


def test_a_lesion_filter_beyond_any_id_is_a_bad_request_not_a_server_error(api_alice):
    response = api_alice.get("/api/photos/", {"lesion": "-5.851417236461237e+232"})
    assert response.status_code == 400
    assert "lesion" in response.json()
