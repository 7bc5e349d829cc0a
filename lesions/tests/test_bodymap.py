"""The body map SVG and what a tap on it means."""

import pytest

from lesions.bodymap import SITES, UNKNOWN, default_position, regions, site_at
from training.contract import LOCALIZATIONS


def test_every_ham10000_site_is_on_the_map():
    assert set(SITES) == set(LOCALIZATIONS) | {UNKNOWN}
    mapped = {region.site for region in regions()}
    assert mapped == set(SITES) - {UNKNOWN}


def test_region_ids_are_unique_and_name_their_view_and_site():
    ids = [region.id for region in regions()]
    assert len(ids) == len(set(ids))
    for region in regions():
        assert region.id.startswith(f"{region.view}-{region.site.replace(' ', '-')}")


@pytest.mark.parametrize("site", [s for s in SITES if s != UNKNOWN])
def test_a_sites_default_dot_lies_on_that_site(site):
    view, x, y = default_position(site)
    assert site_at(x, y, view) == site


@pytest.mark.parametrize(
    ("x", "y", "view", "site"),
    [
        (100, 12, "front", "scalp"),
        (100, 40, "back", "scalp"),  # from behind, the whole head is scalp
        (100, 120, "front", "chest"),
        (100, 120, "back", "back"),
        (50, 215, "front", "hand"),
        (150, 215, "front", "hand"),
        (85, 400, "front", "foot"),
        (85, 400, "back", "acral"),  # the soles
        (115, 330, "back", "lower extremity"),
        (10, 10, "front", UNKNOWN),  # beside the body
    ],
)
def test_a_tap_means_the_site_under_it(x, y, view, site):
    assert site_at(x, y, view) == site


def test_unknown_has_no_dot_and_bad_input_is_refused():
    assert default_position(UNKNOWN) is None
    with pytest.raises(ValueError):
        default_position("elbow")
    with pytest.raises(ValueError):
        site_at(100, 100, "side")
