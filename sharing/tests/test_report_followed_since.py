"""The report's "followed since" is when the first photo was taken, not when the lesion row (or the
share) was made: a patient who adds old photos of a mole has been following it since then."""

import io
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from conftest import open_report
from lesions.models import Photo

pytestmark = pytest.mark.django_db


def test_report_and_pdf_say_followed_since_the_first_photo(client, share, done_photo, lesion):
    first = timezone.make_aware(datetime(2025, 3, 1, 10, 0))
    Photo.objects.filter(pk=done_photo.pk).update(taken_at=first)
    lesion.__class__.objects.filter(pk=lesion.pk).update(created_at=timezone.now() - timedelta(days=2))

    report = open_report(client, share.token)
    page = client.get(report).content.decode()
    assert "followed since 1 Mar 2025" in page
    pdf = PdfReader(io.BytesIO(client.get(f"{report}report.pdf").content))
    assert "followed since 01 Mar 2025" in "\n".join(p.extract_text() for p in pdf.pages)


def test_a_lesion_without_photos_says_no_followed_since(client, share):
    page = client.get(open_report(client, share.token)).content.decode()
    assert "followed since" not in page
