"""The dashboard's body map: a dot per placed lesion, coloured by risk band, ringed when due."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, upload
from inference.models import Analysis
from lesions import reminders, services
from lesions.models import Lesion
from lesions.selectors import risk_band

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("analysis", "band"),
    [
        (None, None),
        (SimpleNamespace(), None),  # an analysis from before advice existed
        (SimpleNamespace(advice=None), None),
        (SimpleNamespace(advice={}), None),
        (SimpleNamespace(advice="high"), None),
        (SimpleNamespace(advice={"band": "extreme"}), None),
        (SimpleNamespace(advice={"band": "high", "text": "See a doctor"}), "high"),
        (SimpleNamespace(advice={"band": "low"}), "low"),
    ],
)
def test_the_risk_band_is_read_defensively(analysis, band):
    assert risk_band(analysis) == band


def _give_every_analysis_the_band(band: str, monkeypatch) -> None:
    """Analysis.advice comes from another branch: use it when it is there, else a stand-in."""
    if any(field.name == "advice" for field in Analysis._meta.get_fields()):
        Analysis.objects.update(advice={"band": band})
    else:
        monkeypatch.setattr(Analysis, "advice", {"band": band}, raising=False)


def _dot(page: str, lesion: Lesion) -> str:
    found = re.search(rf'<a href="/lesions/{lesion.pk}/" class="([^"]+)" aria-label="([^"]+)" data-lesion=', page)
    assert found, f"no dot for {lesion}"
    return found[0]


def test_each_placed_lesion_is_a_named_linked_dot(client_alice, alice, monkeypatch):
    analysed = services.lesion_create(owner=alice, name="Shoulder", map_view="back", map_x=90, map_y=100)
    finish_analysis(services.photo_create(lesion=analysed, upload=upload(jpeg_bytes())), mel=0.7, nv=0.3)
    waiting = services.lesion_create(owner=alice, name="Shin", body_site="lower extremity")
    nowhere = services.lesion_create(owner=alice, name="Somewhere")
    _give_every_analysis_the_band("high", monkeypatch)

    page = client_alice.get("/lesions/").content.decode()
    dot = _dot(page, analysed)
    assert "band-high" in dot and "Shoulder (Back): high risk" in dot
    assert 'cx="90" cy="100"' in page
    assert "band-none" in _dot(page, waiting) and "no result yet" in _dot(page, waiting)
    assert f'data-lesion="{nowhere.pk}"' not in page  # an unknown site has no place on the map
    # The back view's dots are drawn in the back view's coordinates.
    back = page[page.index('data-dots-view="back"') :]
    assert f'data-lesion="{analysed.pk}"' in back.split("</g>")[0]
    assert "High risk: show it to a doctor" in page and "No result yet" in page  # the legend


def test_a_lesion_due_for_a_photo_is_ringed(client_alice, alice):
    due = services.lesion_create(owner=alice, name="Due", body_site="chest")
    reminders.lesion_recheck_interval_set(lesion=due, months=1)
    Lesion.objects.filter(pk=due.pk).update(created_at=timezone.now() - timedelta(days=40))
    fresh = services.lesion_create(owner=alice, name="Fresh", body_site="face")
    reminders.lesion_recheck_interval_set(lesion=fresh, months=1)

    page = client_alice.get("/lesions/").content.decode()
    assert " due" in _dot(page, due) and "due for a photo" in _dot(page, due)
    assert "due for a photo" not in _dot(page, fresh)


def test_a_lesion_saved_before_the_body_map_sits_at_its_sites_centre(client_alice, alice):
    lesion = services.lesion_create(owner=alice, name="Old", body_site="neck")
    Lesion.objects.filter(pk=lesion.pk).update(map_view="", map_x=None, map_y=None)
    assert "Old (Neck)" in _dot(client_alice.get("/lesions/").content.decode(), lesion)


def test_no_map_without_placed_lesions(client_alice, alice):
    services.lesion_create(owner=alice, name="Somewhere")
    assert "Where your lesions are" not in client_alice.get("/lesions/").content.decode()


def test_the_maps_on_one_page_share_no_ids(client_alice, alice):
    services.lesion_create(owner=alice, name="Shoulder", body_site="back")
    page = client_alice.get("/lesions/").content.decode()
    assert page.count("<svg") == 3  # the dots, the phone flow's picker, the add-a-lesion form's picker
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
