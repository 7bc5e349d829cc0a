"""Emails about a lesion's photos lead with the lesion's headline: the same "what to do" sentence as its
page (lesions.selectors.lesion_assessment), coloured by band in HTML, and no probability."""

import pytest

from conftest import finish_analysis, jpeg_bytes, upload
from inference.advice import TITLES
from lesions import emails, selectors, services

pytestmark = pytest.mark.django_db


def _html(message) -> str:
    (content, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return content


def _first_lines(body: str, n: int = 2) -> list[str]:
    return [line for line in body.splitlines() if line.strip()][:n]


@pytest.fixture
def melanoma(lesion):
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    return finish_analysis(photo, mel=0.6, nv=0.4) or photo.analyses.get()


def test_the_analysis_finished_email_leads_with_the_lesions_headline(lesion, melanoma):
    title = selectors.lesion_assessment(lesion=lesion)["title"]
    assert title == TITLES["high"]
    message = emails.analysis_finished(analysis=melanoma)
    assert _first_lines(message.body)[0] == f'"{lesion.name}": {title}.'
    html = _html(message)
    assert html.index(title) < html.index("Hello") and "border-left:6px solid #c9302c" in html
    assert "60%" not in message.body and "Melanoma" not in message.body  # no numbers, no types


def test_the_change_alert_leads_with_the_lesions_headline(lesion, melanoma):
    message = emails.change_alert(analysis=melanoma)
    assert _first_lines(message.body)[0] == f'"{lesion.name}": {TITLES["high"]}.'
    assert _html(message).index(TITLES["high"]) < _html(message).index("Hello")


def test_several_analyses_lead_with_one_headline_per_lesion(alice, lesion, melanoma):
    other = services.lesion_create(owner=alice, name="Right arm", body_site="upper extremity")
    analyses = [melanoma]
    for colour in ((10, 20, 30), (40, 50, 60)):
        photo = services.photo_create(lesion=other, upload=upload(jpeg_bytes(color=colour)))
        finish_analysis(photo, nv=0.99, mel=0.01)
        analyses.append(photo.analyses.get())
    body = emails.analyses_finished(owner=alice, analyses=analyses).body
    assert _first_lines(body, 2) == [f'"{lesion.name}": {TITLES["high"]}.', f'"Right arm": {TITLES["low"]}.']
    assert body.count('Right arm": ') == 1


def test_a_lesion_without_an_answer_yet_has_no_headline(lesion):
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    analysis = photo.analyses.get()
    analysis.status = analysis.Status.FAILED
    analysis.save()
    assert _first_lines(emails.analysis_finished(analysis=analysis).body)[0].startswith("Hello")
