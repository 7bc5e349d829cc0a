"""Placing a lesion on the body map: a tap gives the site, a site alone gives the dot."""

import pytest
from django.core.exceptions import ValidationError

from lesions import services
from lesions.bodymap import default_position

pytestmark = pytest.mark.django_db


def test_a_tap_alone_gives_the_site_and_keeps_the_place(alice):
    lesion = services.lesion_create(owner=alice, name="Mole", map_view="back", map_x=100, map_y=120)
    lesion.refresh_from_db()
    assert lesion.body_site == "back"
    assert (lesion.map_view, lesion.map_x, lesion.map_y) == ("back", 100, 120)


def test_a_tap_that_agrees_with_the_chosen_site_is_kept(alice):
    lesion = services.lesion_create(owner=alice, name="Mole", body_site="hand", map_view="front", map_x=50, map_y=215)
    assert (lesion.body_site, lesion.map_view, lesion.map_x, lesion.map_y) == ("hand", "front", 50, 215)


def test_a_site_alone_puts_the_dot_at_the_sites_centre(alice):
    lesion = services.lesion_create(owner=alice, name="Mole", body_site="chest")
    view, x, y = default_position("chest")
    assert (lesion.map_view, lesion.map_x, lesion.map_y) == (view, x, y)


def test_an_unknown_site_has_no_dot(alice):
    lesion = services.lesion_create(owner=alice, name="Mole")
    assert lesion.body_site == "unknown"
    assert (lesion.map_view, lesion.map_x, lesion.map_y) == ("", None, None)


@pytest.mark.parametrize(
    ("place", "field"),
    [
        ({"map_view": "front", "map_x": 10, "map_y": 10}, "map_x"),  # beside the body
        ({"map_view": "front", "map_x": 100, "map_y": 500}, "map_x"),  # below the map
        ({"map_view": "front", "map_x": -5, "map_y": 120}, "map_x"),
        ({"map_view": "side", "map_x": 100, "map_y": 120}, "map_x"),
        ({"map_view": "front", "map_x": 100}, "map_view"),  # half a tap
        ({"map_x": 100, "map_y": 120}, "map_view"),
    ],
)
def test_a_tap_off_the_outline_or_incomplete_is_refused(alice, place, field):
    with pytest.raises(ValidationError) as caught:
        services.lesion_create(owner=alice, name="Mole", body_site="chest", **place)
    assert field in caught.value.message_dict
    assert not alice.lesions.exists()


def test_a_site_that_disagrees_with_the_tap_is_refused(alice):
    with pytest.raises(ValidationError) as caught:
        services.lesion_create(owner=alice, name="Mole", body_site="face", map_view="front", map_x=100, map_y=120)
    assert "chest" in caught.value.message_dict["body_site"][0]


def test_editing_keeps_a_tapped_dot_unless_the_site_changes(alice):
    lesion = services.lesion_create(owner=alice, name="Mole", map_view="front", map_x=95, map_y=100)
    services.lesion_update(lesion=lesion, name="Mole on chest", body_site="chest")
    assert (lesion.map_view, lesion.map_x, lesion.map_y) == ("front", 95, 100)

    services.lesion_update(lesion=lesion, body_site="neck")
    assert (lesion.map_view, lesion.map_x, lesion.map_y) == default_position("neck")

    services.lesion_update(lesion=lesion, body_site="neck", map_view="back", map_x=100, map_y=72)
    assert (lesion.body_site, lesion.map_view, lesion.map_y) == ("neck", "back", 72)
    with pytest.raises(ValidationError):
        services.lesion_update(lesion=lesion, body_site="neck", map_view="back", map_x=100, map_y=120)


def test_the_form_and_the_api_place_the_lesion(client_alice, api_alice, alice):
    response = client_alice.post(
        "/lesions/new/",
        {"name": "Tapped", "body_site": "back", "notes": "", "map_view": "back", "map_x": "90", "map_y": "150"},
    )
    assert response.status_code == 302
    lesion = alice.lesions.get(name="Tapped")
    assert (lesion.map_view, lesion.map_x, lesion.map_y) == ("back", 90, 150)

    # Without JavaScript the hidden fields come empty: the site's centre.
    client_alice.post("/lesions/new/", {"name": "Listed", "body_site": "face", "notes": "", "map_view": ""})
    assert alice.lesions.get(name="Listed").map_view == "front"

    response = client_alice.post(
        "/lesions/new/", {"name": "Wrong", "body_site": "face", "map_view": "back", "map_x": "90", "map_y": "150"}
    )
    assert response.status_code == 200
    assert "is not where the map was tapped" in response.content.decode()

    body = api_alice.post("/api/lesions/", {"name": "API", "map_view": "front", "map_x": 100, "map_y": 12}).json()
    assert (body["body_site"], body["map_view"], body["map_x"], body["map_y"]) == ("scalp", "front", 100, 12)
    response = api_alice.post("/api/lesions/", {"name": "API", "map_view": "front", "map_x": 1, "map_y": 1})
    assert response.status_code == 400
    assert "map_x" in str(response.json())


def test_the_edit_form_shows_the_dot_and_keeps_it_when_the_site_stays(client_alice, alice):
    lesion = services.lesion_create(owner=alice, name="Mole", map_view="back", map_x=90, map_y=150)
    page = client_alice.get(f"/lesions/{lesion.pk}/edit/").content.decode()
    assert 'data-view="back" data-x="90" data-y="150"' in page
    # The hidden fields start empty: a site changed without JavaScript cannot contradict an old tap.
    assert '<input type="hidden" name="map_x" id="id_map_x">' in page

    form = {"name": "Mole, renamed", "body_site": "back", "notes": "", "map_view": "", "map_x": "", "map_y": ""}
    assert client_alice.post(f"/lesions/{lesion.pk}/edit/", form).status_code == 302
    lesion.refresh_from_db()
    assert (lesion.name, lesion.map_view, lesion.map_x, lesion.map_y) == ("Mole, renamed", "back", 90, 150)

    assert client_alice.post(f"/lesions/{lesion.pk}/edit/", form | {"body_site": "scalp"}).status_code == 302
    lesion.refresh_from_db()
    assert (lesion.body_site, lesion.map_view, lesion.map_x, lesion.map_y) == ("scalp", *default_position("scalp"))
