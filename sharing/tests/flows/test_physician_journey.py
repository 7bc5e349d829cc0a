"""A physician's way through a shared report in Debian's Chromium, at a phone and a desktop size.

Open the emailed link, read the report, compare two photos, download the PDF, send the patient a
note (the form posted by the browser itself, Origin header and all), and the patient sees it on
the lesion's page. Each page is checked with axe-core and, on the phone, for sideways scrolling.
"""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import CHANGE_PAIR, finish_analysis, lesion_image, upload
from lesions import services
from lesions.tests.flows.conftest import browser_marks
from lesions.tests.flows.journey import SCREENS, Journey, axe_marks
from sharing import services as sharing_services
from sharing.models import PhysicianNote

pytestmark = [*browser_marks, *axe_marks]
MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))
NOTE = "Please book a dermoscopy check in the next month."


@pytest.fixture
def shared_lesion(alice, django_capture_on_commit_callbacks):
    """Alice's lesion with two analysed photos, six months apart, and a link for her physician."""
    lesion = services.lesion_create(owner=alice, name="Mole on back", body_site="back")
    for taken_at, data in [(MARCH, lesion_image("ISIC_0024317.jpg")), (MARCH + timedelta(days=183), None)]:
        photo = services.photo_create(lesion=lesion, upload=upload(data or CHANGE_PAIR.read_bytes()), taken_at=taken_at)
        finish_analysis(photo)
    with django_capture_on_commit_callbacks():
        _, token = sharing_services.share_link_create(
            owner=alice, lesion=lesion, physician_email="dr@clinic.example", patient_name="Alice"
        )
    return lesion, token


@SCREENS
def test_a_physician_reads_the_report_and_sends_a_note(browser_page, live_server, screen, shared_lesion, tmp_path):
    lesion, token = shared_lesion
    page = browser_page(**screen)
    page.context.clear_cookies()  # the physician has no account: the link is all they hold
    journey = Journey(page, name="physician", screen=screen)
    tap = (lambda locator: locator.tap()) if journey.phone else (lambda locator: locator.click())
    refused = []
    page.on("response", lambda response: response.status == 403 and refused.append(response.url))

    page.goto(f"{live_server.url}/r/{token}/")
    expect(page).to_have_url(re.compile(r".*/report/\d+/$"))
    expect(page.get_by_role("heading", name="Mole on back")).to_be_visible()
    journey.check("report")

    tap(page.get_by_role("button", name="Compare photos"))
    expect(page).to_have_url(re.compile(r".*/report/\d+/lesions/\d+/compare/.*"))
    page.locator("[data-compare-top] img.layer-photo[src*='layer=photo']").wait_for()
    journey.check("compare")
    page.go_back()
    expect(page.get_by_role("button", name="Download as PDF")).to_be_visible()

    with page.expect_download() as download:
        tap(page.get_by_role("button", name="Download as PDF"))
    pdf = tmp_path / "report.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    page.get_by_label("Your note for the patient").first.fill(NOTE)
    tap(page.get_by_role("button", name="Send the note").first)
    sent = page.get_by_text("Your note on “Mole on back” was sent")
    expect(sent).to_be_visible()
    sent.scroll_into_view_if_needed()
    journey.check("note-sent")
    assert refused == []
    assert PhysicianNote.objects.get(lesion=lesion).body == NOTE

    patient = browser_page(**screen)  # alice, logged in
    patient_journey = Journey(patient, name="physician", screen=screen)
    patient_journey.shots = journey.shots
    patient.goto(f"{live_server.url}/lesions/{lesion.pk}/")
    expect(patient.locator("#notes")).to_contain_text(NOTE)
    patient.locator("#notes").scroll_into_view_if_needed()
    patient_journey.check("patient-reads-note")

    journey.assert_clean()
    patient_journey.assert_clean()
