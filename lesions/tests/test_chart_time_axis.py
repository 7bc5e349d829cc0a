"""The probability chart's numbers: photos at their dates, and where the advice's bands start (drawn
behind the malignant line: static/skinsite/timeline.js, sharing.pdf)."""

from datetime import datetime

import pytest
from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, upload
from inference.advice import operating_bands
from inference.services import installed_model_card
from lesions import selectors, services
from lesions.charts import timeline_chart_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def chart(lesion):
    for day in (datetime(2025, 1, 1), datetime(2025, 1, 2), datetime(2025, 7, 1)):
        photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()), taken_at=timezone.make_aware(day))
        finish_analysis(photo, mel=0.6, nv=0.4)
    return timeline_chart_data(selectors.lesion_history(lesion=lesion))


def test_the_chart_carries_dates_and_where_the_advice_bands_start(chart):
    assert chart["labels"] == ["2025-01-01", "2025-01-02", "2025-07-01"]
    bands = operating_bands(installed_model_card())
    assert bands is not None
    assert chart["bands"] == {
        "medium": round(bands["medium"]["threshold"], 4),
        "high": round(bands["high"]["threshold"], 4),
    }
