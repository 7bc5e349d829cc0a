"""The change alert end to end through a real worker: upload, analyse, measure, compare, page, email.

Two photos of a lesion, the second edited to grow and darken: the lesion page says what changed
and the patient is emailed. Two photos of one unchanged HAM10000 lesion: no alert, no email.
"""

import pytest

from conftest import CHANGE_PAIR, grown_and_darkened, lesion_image, upload
from inference.models import Analysis
from inference.services import current_model_version
from inference.tests.worker import wait_for
from lesions.models import Photo

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def confirmed(alice):
    type(alice).objects.filter(pk=alice.pk).update(email_confirmed=True)
    return alice


def _upload_and_wait(api, lesion_id: int, data: bytes, taken_at: str) -> Analysis:
    response = api.post(
        f"/api/lesions/{lesion_id}/photos/", {"image": upload(data), "taken_at": taken_at}, format="multipart"
    )
    assert response.status_code == 202, response.content
    photo = Photo.objects.get(pk=response.json()["id"])
    return wait_for(
        lambda: (a := Analysis.objects.get(photo=photo, model_version=current_model_version())).is_finished and a,
        timeout=180,
        interval=0.2,
        what=f"the analysis of photo {photo.pk}",
    )


def _change_mail(celery_worker, lesion_id: int) -> list[str]:
    texts = [p.read_text(errors="replace") for p in celery_worker.mail_dir.glob("*.log")]
    return [t for t in texts if "has changed since an earlier photo" in t and f"/lesions/{lesion_id}/" in t]


def test_a_grown_and_darkened_lesion_is_shown_and_emailed(
    api_alice, client_alice, confirmed, shared_media, celery_worker
):
    lesion_id = api_alice.post("/api/lesions/", {"name": "Back mole", "body_site": "back"}, format="json").json()["id"]
    original = lesion_image("ISIC_0024314.jpg")
    first = _upload_and_wait(api_alice, lesion_id, original, "2026-03-02T10:00:00Z")
    assert first.status == "done" and first.change is None
    later = _upload_and_wait(api_alice, lesion_id, grown_and_darkened(original), "2026-09-02T10:00:00Z")
    assert later.status == "done", later.error
    assert later.change["changed"], later.change
    print(f"worker: measuring {later.measures['seconds']:.3f}s, comparing {later.change['seconds']:.3f}s")

    page = client_alice.get(f"/lesions/{lesion_id}/").content.decode()
    assert "larger than in March" in page

    body = api_alice.get(f"/api/photos/{later.photo_id}/").json()["analysis"]
    assert body["change"]["changed"] and body["measures"]["ok"] and body["advice"]["notice"]

    mail = wait_for(lambda: _change_mail(celery_worker, lesion_id), timeout=60, what="the change-alert email")
    assert "To: alice@example.com" in mail[0]


def test_two_photos_of_one_unchanged_ham10000_lesion_raise_no_alert(
    api_alice, client_alice, confirmed, shared_media, celery_worker
):
    lesion_id = api_alice.post("/api/lesions/", {"name": "Leg mole", "body_site": "back"}, format="json").json()["id"]
    _upload_and_wait(api_alice, lesion_id, lesion_image("ISIC_0024317.jpg"), "2026-03-02T10:00:00Z")
    later = _upload_and_wait(api_alice, lesion_id, CHANGE_PAIR.read_bytes(), "2026-06-02T10:00:00Z")
    assert later.status == "done"
    assert later.change["changed"] is False, later.change
    assert later.change["comparisons"][0]["alignment"]["ok"]  # compared, and found no change

    page = client_alice.get(f"/lesions/{lesion_id}/").content.decode()
    assert "No measured change" in page
    # The analysis emails went out (the worker ran the email tasks), but no change alert.
    wait_for(lambda: len(list(celery_worker.mail_dir.glob("*.log"))) >= 2, timeout=60, what="the analysis emails")
    assert not _change_mail(celery_worker, lesion_id)
