"""What keeps sharing from being abused or leaking: a confirmed address, daily caps, the security
log, no token in report URLs, the name shown instead of the email address, no inline script."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from pypdf import PdfReader
from rest_framework.test import APIClient

from accounts.models import SecurityEvent, User
from conftest import PASSWORD, open_report
from lesions import services as lesion_services
from sharing import services, tasks
from sharing.models import ShareLink

pytestmark = pytest.mark.django_db


def _unconfirmed(user):
    user.email_confirmed = False
    user.save()
    return user


# --- A confirmed address, and daily caps ---------------------------------------------------------


def test_an_unconfirmed_account_cannot_share_on_the_web(client_alice, alice, lesion, eager_tasks):
    _unconfirmed(alice)
    assert 'id="email-unconfirmed"' in client_alice.get(f"/lesions/{lesion.pk}/share/").content.decode()
    response = client_alice.post(
        f"/lesions/{lesion.pk}/share/", {"physician_email": "dr@clinic.example", "expires_in_days": 30}
    )
    assert response.status_code == 403
    assert "Confirm your email address before sharing" in response.content.decode()
    assert not ShareLink.objects.exists() and mail.outbox == []


def test_an_unconfirmed_account_cannot_share_through_the_api(api_alice, alice, lesion):
    _unconfirmed(alice)
    response = api_alice.post("/api/shares/", {"physician_email": "dr@clinic.example"}, format="json")
    assert response.status_code == 400
    assert "Confirm your email address" in response.json()["non_field_errors"][0]
    assert not ShareLink.objects.exists()


def test_no_email_in_the_name_of_an_account_unconfirmed_since(alice, share, eager_tasks):
    _unconfirmed(alice)
    assert tasks.send_share_created_email.apply(args=(share.pk, share.token)).get() is False
    assert mail.outbox == []


def test_links_a_day_are_capped(client_alice, lesion, settings):
    settings.SHARE_LINKS_PER_DAY = 2
    url = f"/lesions/{lesion.pk}/share/"

    def form(n: int) -> dict:
        # Different messages: the same share submitted again would be a repeat, not a new link.
        return {"physician_email": "dr@clinic.example", "expires_in_days": 30, "message": f"Visit {n}"}

    assert [client_alice.post(url, form(n)).status_code for n in range(3)] == [200, 200, 429]
    assert "at most 2 reports a day" in client_alice.post(url, form(4)).content.decode()
    assert ShareLink.objects.count() == 2


def test_over_a_daily_cap_the_api_answers_429_with_retry_after(api_alice, lesion, settings):
    settings.SHARE_LINKS_PER_DAY = 2
    answers = [
        api_alice.post(f"/api/lesions/{lesion.pk}/shares/", {"physician_email": "dr@clinic.example", "message": m})
        for m in ("one", "two", "three")
    ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json() == {"detail": "You can share at most 2 reports a day. Try again tomorrow."}
    # The first link leaves the last 24 hours in a day, give or take the test's own seconds.
    assert 24 * 3600 - 60 < int(answers[2]["Retry-After"]) <= 24 * 3600


def test_different_physicians_a_day_are_capped(api_alice, settings):
    settings.SHARE_RECIPIENTS_PER_DAY = 2
    answers = [
        api_alice.post("/api/shares/", {"physician_email": email}, format="json")
        for email in ("a@clinic.example", "b@clinic.example", "a@clinic.example", "c@clinic.example")
    ]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert "at most 2 different physicians a day" in answers[3].json()["detail"]
    assert int(answers[3]["Retry-After"]) > 0
    assert ShareLink.objects.count() == 2  # a@ again was the same share repeated: its first link


def test_the_same_share_submitted_again_gets_the_first_link_and_one_email(
    api_alice, lesion, eager_tasks, django_capture_on_commit_callbacks
):
    body = {"physician_email": "dr@clinic.example", "message": "See you Monday"}
    url = f"/api/lesions/{lesion.pk}/shares/"
    with django_capture_on_commit_callbacks(execute=True):
        first = api_alice.post(url, body, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        again = api_alice.post(url, body, format="json")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert ShareLink.objects.count() == 1
    assert len(mail.outbox) == 1
    # Another message is another share.
    assert api_alice.post(url, body | {"message": "Another"}, format="json").json()["id"] != first.json()["id"]
    assert ShareLink.objects.count() == 2


# --- The security log ----------------------------------------------------------------------------


def _log(user) -> list[str]:
    return list(SecurityEvent.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


def test_created_opened_once_per_session_and_revoked_are_logged(client, client_alice, alice, lesion, done_photo):
    form = {"physician_email": "dr@clinic.example", "expires_in_days": 30}
    page = client_alice.post(f"/lesions/{lesion.pk}/share/", form).content.decode()
    assert _log(alice)[-1] == "share_link_created"
    # The token is known only from the page shown this once.
    token = re.search(r'value="https?://[^"]+/r/([\w-]+)/"', page).group(1)
    share = ShareLink.objects.get()
    physician = client.__class__()
    report = open_report(physician, token)
    for path in ("", "report.pdf", f"photos/{done_photo.pk}/thumbnail/", ""):
        assert physician.get(report + path).status_code == 200
    open_report(physician, token)  # the link followed again in the same browser
    assert _log(alice).count("share_link_opened") == 1
    open_report(client.__class__(), token)  # another browser
    assert _log(alice).count("share_link_opened") == 2
    client_alice.post(f"/lesions/shares/{share.pk}/revoke/")
    client_alice.post(f"/lesions/shares/{share.pk}/revoke/")
    assert _log(alice).count("share_link_revoked") == 1
    event = SecurityEvent.objects.filter(user=alice, kind="share_link_opened").first()
    assert event.detail == "dr@clinic.example"


# --- No token in report URLs ---------------------------------------------------------------------


def test_the_token_is_traded_for_a_session_and_leaves_the_url(client, share, done_photo):
    response = client.get(f"/r/{share.token}/")
    assert response.status_code == 302
    assert response["Location"] == f"/report/{share.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert share.token not in page
    assert client.get(f"/report/{share.pk}/photos/{done_photo.pk}/image/").status_code == 200


def test_without_a_report_session_nothing_opens(client, share, done_photo):
    # Knowing the link's id is not enough: only the token opens a session.
    for path in ("", "report.pdf", f"photos/{done_photo.pk}/image/", f"photos/{done_photo.pk}/heatmap/"):
        assert client.get(f"/report/{share.pk}/{path}").status_code == 403, path
    assert client.post(f"/report/{share.pk}/lesions/{share.lesion_id}/notes/", {"body": "x"}).status_code == 403


def test_a_session_for_one_link_opens_no_other(client, alice, share, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        other, _ = services.share_link_create(owner=alice, physician_email="other@clinic.example")
    open_report(client, share.token)
    assert client.get(f"/report/{other.pk}/").status_code == 403


def test_the_report_session_ends_after_report_session_minutes(client, share, settings):
    settings.REPORT_SESSION_MINUTES = 0
    report = open_report(client, share.token)
    assert client.get(report).status_code == 403
    settings.REPORT_SESSION_MINUTES = 60
    assert client.get(open_report(client, share.token)).status_code == 200


# --- The name shown, never the email address -----------------------------------------------------


@pytest.fixture
def nameless(db):
    return User.objects.create_user(email="jane.doe@example.com", password=PASSWORD, email_confirmed=True)


def test_without_a_display_name_the_name_to_show_is_required(nameless):
    client = APIClient()
    client.force_authenticate(nameless)
    answer = client.post("/api/shares/", {"physician_email": "dr@clinic.example"}, format="json")
    assert answer.status_code == 400
    assert "Enter the name the physician should see" in answer.json()["patient_name"][0]
    answer = client.post("/api/shares/", {"physician_email": "dr@clinic.example", "patient_name": "a@b.c"})
    assert answer.status_code == 400


def test_the_email_address_never_reaches_the_physician(
    client, nameless, eager_tasks, django_capture_on_commit_callbacks
):
    lesion = lesion_services.lesion_create(owner=nameless, name="Left shoulder")
    with django_capture_on_commit_callbacks(execute=True):
        _, token = services.share_link_create(
            owner=nameless, lesion=lesion, physician_email="dr@clinic.example", patient_name="J. D."
        )
    (email,) = mail.outbox
    texts = [email.subject, email.body, email.alternatives[0][0]]
    report = open_report(client, token)
    texts.append(client.get(report).content.decode())
    pdf = client.get(report + "report.pdf")
    texts.append("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages))
    for text in texts:
        assert "J. D." in text or "J. D." in text.replace("&nbsp;", " ")
        assert "jane.doe" not in text and "example.com" not in text


# --- No inline script in sharing's pages ---------------------------------------------------------


def test_no_sharing_template_has_inline_script():
    folder = Path(django_settings.BASE_DIR) / "templates" / "sharing"
    for template in folder.glob("*.html"):
        html = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", html), template.name
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), template.name
        assert "javascript:" not in html, template.name
