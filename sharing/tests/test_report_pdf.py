"""The report as a PDF: for the physician through the link, for the patient from their pages."""

import io

import pytest
from pypdf import PdfReader

from conftest import open_report
from sharing.models import ShareAccess

pytestmark = pytest.mark.django_db


def _pdf_text(response, patient: str = "Alice") -> str:
    """Check the response is a PDF download of `patient`'s report and return its text."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    reader = PdfReader(io.BytesIO(response.content))
    assert reader.metadata.title == f"Skin lesion report: {patient}"
    return "\n".join(page.extract_text() for page in reader.pages)


def test_physician_downloads_the_pdf_through_the_link(client, share, done_photo):
    response = client.get(f"{open_report(client, share.token)}report.pdf")
    text = _pdf_text(response)
    assert "Skin lesion report: Alice" in text
    assert "Left shoulder" in text and "Back" in text
    assert done_photo.taken_at.strftime("%d %b %Y") in text
    assert "Most likely: Melanocytic nevus (mole)" in text
    assert "Chance of a malignant type: 10%" in text
    assert f"Model {done_photo.analyses.get().model_version}" in text
    assert "Not a diagnosis." in text
    assert "Estimated probability of each lesion type" in text  # the chart
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert share.accesses.filter(kind=ShareAccess.Kind.PDF).count() == 1


def test_pdf_of_a_lesion_without_photos(client, share):
    assert "No photos yet." in _pdf_text(client.get(f"{open_report(client, share.token)}report.pdf"))


def test_pdf_of_a_pending_and_a_failed_analysis(client, share, photo):
    assert "Analysis still running." in _pdf_text(client.get(f"{open_report(client, share.token)}report.pdf"))
    analysis = photo.analyses.get()
    analysis.status, analysis.error = "failed", "The <photo> could not be read & was kept."
    analysis.save()
    text = _pdf_text(client.get(f"{open_report(client, share.token)}report.pdf"))
    assert "Analysis failed: The <photo> could not be read & was kept." in text


def test_patient_names_in_any_script_and_markup_do_not_break_the_pdf(client, alice, share, done_photo):
    share.patient_name = "Zoë <b>Ünal</b>"
    share.save()
    text = _pdf_text(client.get(f"{open_report(client, share.token)}report.pdf"), patient="Zoë <b>Ünal</b>")
    assert "Skin lesion report: Zoë <b>Ünal</b>" in text


def test_patient_downloads_a_lesion_pdf_and_an_all_lesions_pdf(client_alice, alice, lesion, done_photo):
    from lesions import services

    services.lesion_create(owner=alice, name="Right calf", body_site="lower extremity")
    one = _pdf_text(client_alice.get(f"/lesions/{lesion.pk}/report.pdf"))
    assert "Left shoulder" in one and "Right calf" not in one
    every = _pdf_text(client_alice.get("/lesions/report.pdf"))
    assert "Left shoulder" in every and "Right calf" in every


def test_bob_cannot_download_alices_pdf(client, bob, lesion, done_photo):
    client.force_login(bob)
    assert client.get(f"/lesions/{lesion.pk}/report.pdf").status_code == 404
    text = _pdf_text(client.get("/lesions/report.pdf"), patient="Bob")
    assert "Left shoulder" not in text and "No lesions to show." in text


def test_the_pdf_needs_a_login_or_a_link(client, lesion):
    assert client.get(f"/lesions/{lesion.pk}/report.pdf").status_code == 302
    assert client.get("/lesions/report.pdf").status_code == 302
