"""What the model was told besides the photo (body site, age, sex), shown wherever its result is."""

import io

import pytest
from pypdf import PdfReader

from conftest import finish_analysis, open_report
from inference.models import Analysis

pytestmark = pytest.mark.django_db

TOLD_EVERYTHING = "The model was also told: body site back, age 47, sex female"
TOLD_SITE_ONLY = "The model was also told: body site back; no age or sex given"


def _told(photo, inputs: dict | None) -> Analysis:
    analysis = finish_analysis(photo)
    analysis.inputs = inputs
    analysis.save()
    return analysis


def _pdf_text(response) -> str:
    assert response.status_code == 200
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


@pytest.mark.parametrize(
    ("inputs", "sentence"),
    [
        ({"site": "back", "age": 47, "sex": "female"}, TOLD_EVERYTHING),
        ({"site": "back", "age": None, "sex": None}, TOLD_SITE_ONLY),
        (
            {"site": "lower extremity", "age": 0, "sex": None},
            "The model was also told: body site leg (lower extremity), age 0; no sex given",
        ),
        ({"site": None, "age": 60, "sex": "male"}, "The model was also told: age 60, sex male; no body site given"),
        ({"site": None, "age": None, "sex": None}, "The model was given only the photo: no body site, age or sex"),
        (None, ""),  # analysed before the inputs were recorded
    ],
)
def test_the_inputs_in_plain_words(inputs, sentence):
    assert Analysis(status=Analysis.Status.DONE, inputs=inputs).inputs_sentence == sentence


def test_photo_page_and_timeline_say_what_the_model_was_told(client_alice, alice, photo):
    _told(photo, {"site": "back", "age": 47, "sex": "female"})
    lesion_page = f"/lesions/{photo.lesion_id}/"
    for page in (f"/lesions/photos/{photo.pk}/", lesion_page, lesion_page + "timeline/"):
        html = client_alice.get(page).content.decode()
        assert TOLD_EVERYTHING + "." in html, page
        assert "in your settings" not in html


def test_the_patient_is_pointed_to_the_settings_while_age_or_sex_is_missing(client_alice, alice, photo):
    _told(photo, {"site": "back", "age": None, "sex": None})
    html = client_alice.get(f"/lesions/photos/{photo.pk}/").content.decode()
    assert TOLD_SITE_ONLY in html
    assert '(<a href="/accounts/settings/">add them in your settings</a>).' in html

    # Once both are on the account the advice goes; the sentence stays true to what this analysis got.
    alice.birth_year, alice.sex = 1980, "female"
    alice.save()
    html = client_alice.get(f"/lesions/{photo.lesion_id}/").content.decode()
    assert TOLD_SITE_ONLY + "." in html and "in your settings" not in html


def test_the_physicians_report_and_pdf_say_what_the_model_was_told(client, share, photo):
    _told(photo, {"site": "back", "age": None, "sex": None})
    html = client.get(f"{open_report(client, share.token)}").content.decode()
    assert TOLD_SITE_ONLY + "." in html
    assert "settings" not in html  # nothing in the report leads into the patient's account
    assert TOLD_SITE_ONLY in _pdf_text(client.get(f"{open_report(client, share.token)}report.pdf"))


def test_the_api_gives_the_inputs(api_alice, api_bob, photo):
    _told(photo, {"site": "back", "age": 47, "sex": "female"})
    # Recorded before photo types: those read as null / false.
    expected = {
        "site": "back",
        "age": 47,
        "sex": "female",
        "photo_type": None,
        "photo_type_detected": None,
        "photo_type_given": False,
    }
    body = api_alice.get(f"/api/photos/{photo.pk}/").json()
    assert body["analysis"]["inputs"] == expected
    history = api_alice.get(f"/api/lesions/{photo.lesion_id}/history/").json()["results"]
    assert history[0]["analysis"]["inputs"] == expected
    assert api_bob.get(f"/api/photos/{photo.pk}/").status_code == 404


def test_pending_and_older_analyses_have_no_inputs_and_still_show(client_alice, api_alice, share, photo):
    assert api_alice.get(f"/api/photos/{photo.pk}/").json()["analysis"]["inputs"] is None  # pending
    _told(photo, None)  # done before the inputs were recorded
    assert api_alice.get(f"/api/photos/{photo.pk}/").json()["analysis"]["inputs"] is None
    for page in (f"/lesions/photos/{photo.pk}/", f"/lesions/{photo.lesion_id}/"):
        response = client_alice.get(page)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Melanocytic nevus (mole)" in html and "The model was" not in html
    report = client_alice.get(f"{open_report(client_alice, share.token)}")
    assert report.status_code == 200 and "The model was" not in report.content.decode()
    text = _pdf_text(client_alice.get(f"{open_report(client_alice, share.token)}report.pdf"))
    assert "Most likely: Melanocytic nevus (mole)" in text and "The model was" not in text
