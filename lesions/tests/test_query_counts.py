"""The lists cost the same number of queries for 2 lesions as for 8, with any number of photos."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import finish_analysis, jpeg_bytes, upload
from lesions import services

pytestmark = pytest.mark.django_db


def _add_lesions(owner, count: int, photos_each: int) -> None:
    for n in range(count):
        lesion = services.lesion_create(owner=owner, name=f"Mole {n}", body_site="back")
        for k in range(photos_each):
            photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes(color=(100 + 10 * k, 90, 80))))
            if k % 2 == 0:
                finish_analysis(photo)  # a mix of done and pending analyses


def _queries(send) -> int:
    send()  # warm: a device token records when it was last used, once a while
    with CaptureQueriesContext(connection) as captured:
        response = send()
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "page",
    [
        lambda client, api: client.get("/lesions/"),  # the dashboard
        lambda client, api: api.get("/api/lesions/"),
        lambda client, api: client.get("/lesions/capture/"),
        lambda client, api: client.get("/lesions/shares/new/"),
    ],
    ids=["dashboard", "api-lesion-list", "capture", "share-form"],
)
def test_lesion_lists_do_not_query_per_lesion(page, client_alice, api_alice, alice, django_assert_num_queries):
    _add_lesions(alice, 2, photos_each=1)
    few = _queries(lambda: page(client_alice, api_alice))

    _add_lesions(alice, 6, photos_each=3)
    with django_assert_num_queries(few):
        response = page(client_alice, api_alice)
    assert response.status_code == 200


def test_the_dashboard_shows_each_lesions_latest_photo_and_analysis(client_alice, alice):
    lesion = services.lesion_create(owner=alice, name="Shin", body_site="lower extremity")
    older = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes(color=(1, 2, 3))))
    finish_analysis(older, mel=0.9, nv=0.1)
    newer = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes(color=(3, 2, 1))))
    finish_analysis(newer, nv=0.95, bkl=0.05)

    page = client_alice.get("/lesions/").content.decode()
    assert f"/lesions/photos/{newer.pk}/thumbnail/" in page
    assert f"/lesions/photos/{older.pk}/thumbnail/" not in page
    body = client_alice.get("/api/lesions/").json()["results"][0]
    assert body["latest_analysis"]["probabilities"]["nv"] == pytest.approx(0.95)


@pytest.mark.parametrize("path", ["/lesions/{id}/", "/lesions/{id}/timeline/", "/api/lesions/{id}/history/"])
def test_a_lesions_timeline_does_not_query_per_photo(path, client_alice, alice, django_assert_num_queries):
    lesion = services.lesion_create(owner=alice, name="Arm", body_site="upper extremity")

    def add_photos(count: int) -> None:
        for k in range(count):
            finish_analysis(services.photo_create(lesion=lesion, upload=upload(jpeg_bytes(color=(k, 50, 60)))))

    url = path.format(id=lesion.pk)
    add_photos(2)
    few = _queries(lambda: client_alice.get(url))
    add_photos(6)
    with django_assert_num_queries(few):
        assert client_alice.get(url).status_code == 200
