"""The physician's report (page and PDF) shows the measures, what changed and the advice."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from conftest import grown_and_darkened, lesion_image_paths, open_report, upload
from inference.services import analysis_run
from lesions import services
from sharing.tests.test_report_pdf import _pdf_text

pytestmark = pytest.mark.django_db

MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))


@pytest.fixture
def changed_lesion(lesion):
    original = next(p for p in lesion_image_paths() if p.name == "ISIC_0024314.jpg").read_bytes()
    first = services.photo_create(lesion=lesion, upload=upload(original), taken_at=MARCH)
    later = services.photo_create(
        lesion=lesion, upload=upload(grown_and_darkened(original)), taken_at=MARCH + timedelta(days=180)
    )
    analysis_run(photo_id=first.pk)
    return analysis_run(photo_id=later.pk)


def test_report_page_and_pdf_show_measures_change_and_advice(client, share, changed_lesion):
    analysis = changed_lesion
    report = open_report(client, share.token)
    page = client.get(report).content.decode()
    assert "larger than in March" in page
    assert "Measured on the outline: asymmetry" in page
    assert analysis.advice["title"] in page.replace("&#x27;", "'")
    assert page.count("Not a diagnosis.") == 1  # once, at the top of the report

    text = " ".join(_pdf_text(client.get(report + "report.pdf")).split())
    assert "What changed: " in text and "The lesion is about" in text and "larger than in March" in text
    assert "Measured: asymmetry" in text
    assert "Advice" in text
