"""The physician's report: what it shows, what it hides, and when the link is dead."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, open_report, upload
from lesions import services
from sharing import services as sharing_services
from sharing.models import ShareAccess

pytestmark = pytest.mark.django_db


def test_report_shows_the_patient_lesion_photos_analyses_chart_and_notice(client, share, done_photo):
    response = client.get(f"{open_report(client, share.token)}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Skin lesion report: Alice" in page
    assert "Left shoulder" in page and "Back" in page  # the lesion and its body site
    assert done_photo.taken_at.strftime("%-d %b %Y") in page
    assert "Most likely:" in page and "Melanocytic nevus (mole)" in page
    assert "Chance of a malignant type" in page
    analysis = done_photo.analyses.get()
    assert f"model {analysis.model_version}" in page
    assert "Not a diagnosis." in page
    assert 'src="data:image/svg+xml;base64,' in page  # the probability chart
    assert f"/report/{share.pk}/photos/{done_photo.pk}/thumbnail/" in page
    assert f"/report/{share.pk}/report.pdf" in page
    assert share.token not in page


def test_report_is_kept_out_of_search_engines(client, share):
    response = client.get(f"{open_report(client, share.token)}")
    assert '<meta name="robots" content="noindex' in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"


def test_report_has_no_way_into_the_patients_account(client, share, done_photo):
    page = client.get(f"{open_report(client, share.token)}").content.decode()
    links = re.findall(r'(?:href|action|src)="([^"]+)"', page)
    # Besides the report's own URLs: the home page and the public guide to the lesion types.
    inside = [
        link for link in links if link.startswith("/") and not link.startswith(("/report/", "/static/", "/learn/"))
    ]
    assert inside == ["/"]
    assert '"/lesions/' not in page and '"/accounts/' not in page


def test_photos_are_served_through_the_report_session(client, share, done_photo):
    for kind in ("image", "thumbnail"):
        response = client.get(f"{open_report(client, share.token)}photos/{done_photo.pk}/{kind}/")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert response["X-Robots-Tag"] == "noindex, nofollow"
    # The patient's own photo URLs still want the owner's login.
    assert client.get(f"/lesions/photos/{done_photo.pk}/image/").status_code == 302


def test_nothing_outside_the_shared_lesion_is_reachable(client, alice, bob, share, done_photo):
    other_lesion = services.lesion_create(owner=alice, name="Right calf", body_site="lower extremity")
    other_photo = services.photo_create(lesion=other_lesion, upload=upload(jpeg_bytes()))
    bobs_lesion = services.lesion_create(owner=bob, name="Bob's mole")
    bobs_photo = services.photo_create(lesion=bobs_lesion, upload=upload(jpeg_bytes()))
    page = client.get(f"{open_report(client, share.token)}").content.decode()
    assert "Right calf" not in page and "Bob" not in page
    for photo in (other_photo, bobs_photo):
        assert client.get(f"{open_report(client, share.token)}photos/{photo.pk}/image/").status_code == 404
        assert client.get(f"{open_report(client, share.token)}photos/{photo.pk}/thumbnail/").status_code == 404
    note = {"body": "hello"}
    assert client.post(f"{open_report(client, share.token)}lesions/{other_lesion.pk}/notes/", note).status_code == 404
    assert client.post(f"{open_report(client, share.token)}lesions/{bobs_lesion.pk}/notes/", note).status_code == 404


def test_a_link_to_all_lesions_shows_each_of_them(
    client, alice, lesion, done_photo, django_capture_on_commit_callbacks
):
    calf = services.lesion_create(owner=alice, name="Right calf", body_site="lower extremity")
    calf_photo = services.photo_create(lesion=calf, upload=upload(jpeg_bytes()))
    finish_analysis(calf_photo, nv=0.3, mel=0.6, bkl=0.1)
    with django_capture_on_commit_callbacks():
        _, token = sharing_services.share_link_create(owner=alice, physician_email="dr@clinic.example")
    page = client.get(f"{open_report(client, token)}").content.decode()
    assert "Left shoulder" in page and "Right calf" in page
    assert page.count('src="data:image/svg+xml;base64,') == 2
    assert client.get(f"{open_report(client, token)}photos/{calf_photo.pk}/image/").status_code == 200


def test_opening_the_report_is_logged(client, share):
    client.get(f"{open_report(client, share.token)}")
    client.get(f"{open_report(client, share.token)}")
    assert list(share.accesses.values_list("kind", flat=True)) == [ShareAccess.Kind.REPORT] * 2


def test_a_wrong_token_is_404(client, share):
    assert client.get(f"/r/{share.token[:-2]}xx/").status_code == 404
    assert client.get("/r/" + "a" * 200 + "/").status_code == 404
    assert client.get(f"/r/{share.token}x/report.pdf").status_code == 404


def test_an_expired_link_is_410_and_shows_nothing(client, share, done_photo):
    report = open_report(client, share.token)  # a session opened earlier ends with the link
    share.expires_at = timezone.now() - timedelta(seconds=1)
    share.save()
    for path in ("", "report.pdf", f"photos/{done_photo.pk}/image/", f"photos/{done_photo.pk}/thumbnail/"):
        response = client.get(f"{report}{path}")
        assert response.status_code == 410, path
    assert client.get(f"/r/{share.token}/").status_code == 410
    page = response.content.decode()
    assert "no longer valid" in page and "expired" in page
    assert "Left shoulder" not in page and "Alice" not in page
    assert client.post(f"{report}lesions/{share.lesion_id}/notes/", {"body": "hi"}).status_code == 410
    assert not share.accesses.exists()


def test_a_revoked_link_is_410(client, share, done_photo):
    report = open_report(client, share.token)
    sharing_services.share_link_revoke(share=share)
    assert client.get(f"/r/{share.token}/").status_code == 410
    response = client.get(report)
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    assert client.get(f"{report}photos/{done_photo.pk}/image/").status_code == 410


def test_a_deleted_lesion_takes_its_links_with_it(client, share, lesion):
    services.lesion_delete(lesion=lesion)
    assert client.get(f"{open_report(client, share.token)}").status_code == 404


def test_report_pages_are_rate_limited_per_link(client, settings, share):
    settings.REPORT_RATE_LIMIT_PER_MINUTE = 3
    report = open_report(client, share.token)
    codes = [client.get(report, REMOTE_ADDR=f"10.0.0.{i}").status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_behind_a_proxy_each_physician_has_their_own_count(client, settings):
    # The address comes from the trusted proxy count, as for the API throttles: not the proxy's.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.REPORT_RATE_LIMIT_PER_MINUTE = 3
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    guesses = [client.get(f"/r/guess{i}/", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy).status_code for i in range(4)]
    assert guesses == [404, 404, 404, 429]
    assert client.get("/r/another/", HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy).status_code == 404


def test_report_pages_are_rate_limited_per_address(client, settings, share):
    settings.REPORT_RATE_LIMIT_PER_MINUTE = 3
    guesses = [client.get(f"/r/guess{i}/", REMOTE_ADDR="10.0.0.9").status_code for i in range(4)]
    assert guesses == [404, 404, 404, 429]
    response = client.get(f"{open_report(client, share.token)}", REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert client.get(f"{open_report(client, share.token)}", REMOTE_ADDR="10.0.0.10").status_code == 200


def test_not_found_under_the_report_links_is_kept_out_of_caches_and_search_engines(client, share, photo):
    report = open_report(client, share.token)
    answers = [
        client.get(f"{report}photos/{photo.pk + 1000}/image/"),  # a view's 404 inside a report session
        client.get(f"{report}lesions/{share.lesion_id + 1000}/compare/"),  # a lesion the link does not cover
        client.get(f"{report}no-such-page/"),  # no view at all
        client.get("/report/not-a-number/"),
        client.get("/r/not-a-token/"),
    ]
    for response in answers:
        assert response.status_code == 404, response.request["PATH_INFO"]
        assert response["Cache-Control"] == "private, no-store", response.request["PATH_INFO"]
        assert response["X-Robots-Tag"] == "noindex, nofollow", response.request["PATH_INFO"]


def test_the_report_says_not_a_diagnosis_once(client, share, done_photo):
    page = client.get(open_report(client, share.token)).content.decode()
    assert page.count("Not a diagnosis.") == 1
    assert "Skinsite informs; it does not diagnose" in page and "see a physician" in page
