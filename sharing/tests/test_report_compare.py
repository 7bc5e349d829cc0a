"""A physician compares two photos of a shared lesion through the link, as the patient can, and nothing more."""

import io
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from PIL import Image

from conftest import lesion_image, open_report, upload
from lesions import services
from sharing import services as sharing_services

pytestmark = pytest.mark.django_db

MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))


def _compare_url(report: str, lesion_id: int, query: str = "") -> str:
    return f"{report}lesions/{lesion_id}/compare/{query}"


def _assert_private(response) -> None:
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_physician_compares_from_the_report(client, share, lesion, pair):
    first, later = pair
    report = open_report(client, share.token)
    compare = _compare_url(report, lesion.pk)
    assert f'href="{compare}"' in client.get(report).content.decode()

    response = client.get(compare)  # default: the first and the last photo
    assert response.status_code == 200
    _assert_private(response)
    page = response.content.decode()
    assert "larger than in March" in page
    assert "Not a diagnosis." in page
    assert "data-compare-slider" in page and "lesions/compare.js" in page
    assert "<script>" not in page  # the CSP allows no inline script
    aligned = f"{compare}image/?a={first.pk}&amp;b={later.pk}&amp;layer="
    assert f'src="{aligned}photo"' in page and f'src="{aligned}outline"' in page
    assert f'src="{report}photos/{first.pk}/image/"' in page and f'src="{report}photos/{later.pk}/image/"' in page
    # Every picture comes through the report: none from the patient's login-only pages or the API.
    assert "/lesions/photos/" not in page and "/api/" not in page

    for layer in ("photo", "outline"):
        image = client.get(f"{compare}image/?a={first.pk}&b={later.pk}&layer={layer}")
        assert image.status_code == 200 and image["Content-Type"] == "image/png"
        _assert_private(image)
        assert Image.open(io.BytesIO(image.content)).size == (200, 150)  # the earlier photo's frame
    # No heatmap was made for these analyses: that layer is not found, nor a layer that does not exist.
    assert client.get(f"{compare}image/?a={first.pk}&b={later.pk}&layer=heatmap").status_code == 404
    assert client.get(f"{compare}image/?a={first.pk}&b={later.pk}&layer=nope").status_code == 404


def test_a_chosen_pair_in_either_order(client, share, lesion, pair):
    _first, later = pair
    middle = services.photo_create(
        lesion=lesion, upload=upload(lesion_image("ISIC_0024314.jpg")), taken_at=MARCH + timedelta(days=30)
    )
    compare = _compare_url(open_report(client, share.token), lesion.pk)
    response = client.get(f"{compare}?a={later.pk}&b={middle.pk}")
    assert response.status_code == 200
    assert (response.context["pair"].earlier, response.context["pair"].later) == (middle, later)
    assert client.get(f"{compare}image/?a={later.pk}&b={middle.pk}").status_code == 200


def test_photos_of_another_lesion_or_user_are_not_found(client, alice, bob, share, lesion, pair):
    first, later = pair
    other_lesion = services.lesion_create(owner=alice, name="Right calf", body_site="lower extremity")
    alices_other = services.photo_create(lesion=other_lesion, upload=upload(lesion_image("ISIC_0024317.jpg")))
    services.photo_create(lesion=other_lesion, upload=upload(lesion_image("ISIC_0024317.jpg")))
    bobs_lesion = services.lesion_create(owner=bob, name="Bob's mole", body_site="back")
    bobs_photo = services.photo_create(lesion=bobs_lesion, upload=upload(lesion_image("ISIC_0024331.jpg")))
    services.photo_create(lesion=bobs_lesion, upload=upload(lesion_image("ISIC_0024331.jpg")))
    report = open_report(client, share.token)
    compare = _compare_url(report, lesion.pk)

    for stranger in (alices_other, bobs_photo):
        for path in (f"?a={first.pk}&b={stranger.pk}", f"image/?a={stranger.pk}&b={later.pk}"):
            assert client.get(compare + path).status_code == 404, path
    # The link is for one lesion: alice's other lesion and bob's are not in it, whatever the photos.
    for other in (other_lesion, bobs_lesion):
        assert client.get(_compare_url(report, other.pk)).status_code == 404
        assert client.get(_compare_url(report, other.pk, f"image/?a={first.pk}&b={later.pk}")).status_code == 404
    # One photo twice, junk, or ids beyond any integer column.
    for query in (f"?a={first.pk}&b={first.pk}", "?a=x&b=", f"?a={first.pk}&b={2**64}"):
        assert client.get(compare + query).status_code == 404, query
        assert client.get(f"{compare}image/{query}").status_code == 404, query


def test_a_link_to_all_lesions_compares_each_of_the_patients_lesions_only(
    client, alice, bob, lesion, pair, django_capture_on_commit_callbacks
):
    bobs_lesion = services.lesion_create(owner=bob, name="Bob's mole", body_site="back")
    services.photo_create(lesion=bobs_lesion, upload=upload(lesion_image("ISIC_0024331.jpg")))
    services.photo_create(lesion=bobs_lesion, upload=upload(lesion_image("ISIC_0024331.jpg")))
    with django_capture_on_commit_callbacks():
        _, token = sharing_services.share_link_create(owner=alice, physician_email="dr@clinic.example")
    report = open_report(client, token)
    assert client.get(_compare_url(report, lesion.pk)).status_code == 200
    assert client.get(_compare_url(report, bobs_lesion.pk)).status_code == 404


def test_a_lesion_with_one_photo_has_nothing_to_compare(client, share, lesion, photo):
    report = open_report(client, share.token)
    assert "Compare photos" not in client.get(report).content.decode()
    page = client.get(_compare_url(report, lesion.pk)).content.decode()
    assert "Comparing needs two photos" in page and "data-compare-slider" not in page


def test_a_revoked_or_expired_link_is_gone(client, share, lesion, pair):
    first, later = pair
    compare = _compare_url(open_report(client, share.token), lesion.pk)
    image = f"{compare}image/?a={first.pk}&b={later.pk}"
    assert client.get(compare).status_code == 200
    share.expires_at = timezone.now() - timedelta(seconds=1)
    share.save()
    for url in (compare, image):
        response = client.get(url)
        assert response.status_code == 410 and "no longer valid" in response.content.decode()
        _assert_private(response)
    share.expires_at = timezone.now() + timedelta(days=1)
    share.save()
    sharing_services.share_link_revoke(share=share)
    assert client.get(compare).status_code == 410
    assert client.get(image).status_code == 410


def test_without_a_report_session_nothing_is_shown(client, share, lesion, pair):
    first, later = pair
    compare = f"/report/{share.pk}/lesions/{lesion.pk}/compare/"
    for url in (compare, f"{compare}image/?a={first.pk}&b={later.pk}"):
        response = client.get(url)
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")
        _assert_private(response)
    # The patient's own compare page still wants the patient's login.
    assert client.get(f"/lesions/{lesion.pk}/compare/").status_code == 302


def test_the_compare_image_is_refused_with_retry_after_while_the_process_is_busy(client, share, lesion, pair, settings):
    from lesions import comparison

    settings.COMPARE_IMAGE_WAIT_SECONDS = 0.2  # no slot frees up here: do not wait the default 20 s

    first, later = pair
    report = open_report(client, share.token)
    slots = comparison._drawing_slots()
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    try:
        response = client.get(f"{report}lesions/{lesion.pk}/compare/image/?a={first.pk}&b={later.pk}")
    finally:
        for _ in range(taken):
            slots.release()
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    _assert_private(response)
