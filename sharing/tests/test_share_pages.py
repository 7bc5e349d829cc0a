"""The patient's sharing pages: share from the lesion page, see every link and its log, revoke."""

import re

import pytest
from django.core import mail
from django.test import Client

from conftest import open_report
from sharing.models import ShareLink

pytestmark = pytest.mark.django_db


def test_lesion_page_offers_sharing_and_the_pdf(client_alice, lesion):
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert "Share with a physician" in page
    assert f'action="/lesions/{lesion.pk}/share/"' in page
    assert f'href="/lesions/{lesion.pk}/report.pdf"' in page


def test_share_a_lesion_from_its_page_shows_the_link_once_and_emails_it(
    client_alice, lesion, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_alice.post(
            f"/lesions/{lesion.pk}/share/",
            {"physician_email": "dr@clinic.example", "expires_in_days": "30", "message": "Itches since May"},
        )
    assert response.status_code == 200
    page = response.content.decode()
    url = re.search(r'value="(http://[^"]+/r/[^"]+/)"', page).group(1)
    assert "shown only now" in page
    share = ShareLink.objects.get()
    assert share.lesion == lesion and share.message == "Itches since May"
    assert [m.to for m in mail.outbox] == [["dr@clinic.example"]]
    assert url in mail.outbox[0].body
    # The list page never shows the link again.
    assert url not in client_alice.get("/lesions/shares/").content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"physician_email": "dr@clinic.example", "expires_in_days": "120"}, "from 1 to 90 days"),
        ({"physician_email": "dr@clinic.example", "expires_in_days": "0"}, "from 1 to 90 days"),
        ({"physician_email": "dr at clinic", "expires_in_days": "30"}, "physician&#x27;s email address"),
    ],
)
def test_bad_input_is_explained(client_alice, lesion, data, message):
    response = client_alice.post(f"/lesions/{lesion.pk}/share/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ShareLink.objects.exists()


def test_share_all_lesions(client_alice, alice, django_capture_on_commit_callbacks):
    assert client_alice.get("/lesions/shares/new/").status_code == 200
    with django_capture_on_commit_callbacks():
        response = client_alice.post("/lesions/shares/new/", {"physician_email": "gp@clinic.example"})
    assert response.status_code == 400  # expiry is required on the form
    with django_capture_on_commit_callbacks():
        response = client_alice.post(
            "/lesions/shares/new/", {"physician_email": "gp@clinic.example", "expires_in_days": "7"}
        )
    assert response.status_code == 200
    share = ShareLink.objects.get()
    assert share.owner == alice and share.lesion is None


def test_list_shows_recipient_expiry_and_when_it_was_opened(client_alice, share):
    physician = Client()
    physician.get(f"{open_report(physician, share.token)}")
    physician.get(f"{open_report(physician, share.token)}report.pdf")
    page = client_alice.get("/lesions/shares/").content.decode()
    assert "dr@clinic.example" in page
    assert "Active until" in page
    assert "2 times" in page
    assert "opened the report" in page and "downloaded the pdf" in page
    assert "Left shoulder" in page


def test_revoke_from_the_list(client_alice, share):
    response = client_alice.post(f"/lesions/shares/{share.pk}/revoke/")
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.revoked_at is not None
    assert "Revoked" in client_alice.get("/lesions/shares/").content.decode()


def test_bob_cannot_share_list_or_revoke_alices(client, bob, lesion, share):
    client.force_login(bob)
    assert client.post(f"/lesions/{lesion.pk}/share/", {"physician_email": "x@y.example"}).status_code == 404
    assert client.get(f"/lesions/{lesion.pk}/share/").status_code == 404
    assert "dr@clinic.example" not in client.get("/lesions/shares/").content.decode()
    assert client.post(f"/lesions/shares/{share.pk}/revoke/").status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None
    assert ShareLink.objects.count() == 1


def test_sharing_pages_need_a_login(client, lesion, share):
    for path in (f"/lesions/{lesion.pk}/share/", "/lesions/shares/", "/lesions/shares/new/"):
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next={path}"), path
    # Someone without a login who posts a revoke is sent to log in, and the link keeps working.
    revoke = client.post(f"/lesions/shares/{share.pk}/revoke/")
    assert revoke.status_code == 302 and revoke["Location"].startswith("/accounts/login/?next=")
    share.refresh_from_db()
    assert share.revoked_at is None
    assert client.get(f"{open_report(client, share.token)}").status_code == 200
