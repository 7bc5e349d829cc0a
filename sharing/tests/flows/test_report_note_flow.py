"""A physician leaves a note through the share link in Debian's Chromium, and the patient sees it.

The test client sends no Origin header, so it cannot see what Chromium does: a page whose
referrer policy is `no-referrer` makes the browser post with `Origin: null`, and Django's CSRF
check refuses that with a 403. Only a real browser submitting the real form proves the note
arrives.
"""

import pytest
from django.core import mail
from playwright.sync_api import expect

from conftest import finish_analysis, lesion_image_paths, upload
from lesions import services
from lesions.tests.flows.conftest import browser_marks
from sharing import services as sharing_services
from sharing.models import PhysicianNote

pytestmark = browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_physician_sends_a_note_and_the_patient_reads_it(
    browser_page, live_server, alice, screen, django_capture_on_commit_callbacks
):
    lesion = services.lesion_create(owner=alice, name="Mole on back", body_site="back")
    photo = services.photo_create(lesion=lesion, upload=upload(lesion_image_paths()[0].read_bytes()))
    finish_analysis(photo)
    _, token = sharing_services.share_link_create(owner=alice, lesion=lesion, physician_email="dr@clinic.example")
    mail.outbox.clear()

    physician = browser_page(**screen)
    physician.context.clear_cookies()  # the physician has no account: the link is all they hold
    refused = []
    physician.on("response", lambda r: r.status == 403 and refused.append(r.url))
    physician.goto(f"{live_server.url}/r/{token}/")
    physician.get_by_label("Your note for the patient").first.fill("Please book a dermoscopy check in the next month.")
    physician.get_by_role("button", name="Send the note").first.click()

    expect(physician.get_by_text("Your note on “Mole on back” was sent")).to_be_visible()
    assert refused == []
    note = PhysicianNote.objects.get(lesion=lesion)
    assert note.body == "Please book a dermoscopy check in the next month."

    patient = browser_page(**screen)  # alice, logged in
    patient.goto(f"{live_server.url}/lesions/{lesion.pk}/")
    expect(patient.locator("#notes")).to_contain_text("Please book a dermoscopy check in the next month.")
