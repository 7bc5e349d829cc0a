"""The public guide: /learn/, one page per condition, the guides and the example images, no login needed."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from education.models import Condition, ExampleImage, Guide, Resource
from training.contract import CLASSES, MALIGNANT_CLASSES

pytestmark = pytest.mark.django_db


def test_index_lists_the_seven_conditions_grouped_benign_then_malignant(client, shipped):
    response = client.get(reverse("education:index"))

    assert response.status_code == 200
    groups = {group.title: {c.code for c in group.conditions} for group in response.context["groups"]}
    assert groups == {"Benign types": {"bkl", "df", "nv", "vasc"}, "Malignant types": set(MALIGNANT_CLASSES)}
    benign_html, malignant_html = response.content.decode().split('<section id="malignant">')
    for code in CLASSES:
        assert f'id="condition-{code}"' in (malignant_html if code in MALIGNANT_CLASSES else benign_html)


def test_index_shows_an_example_image_and_a_link_for_each_condition(client, shipped):
    html = client.get(reverse("education:index")).content.decode()

    for condition in Condition.objects.all():
        assert condition.images.order_by("order", "id")[0].get_absolute_url() in html
        assert reverse("education:condition", args=[condition.code]) in html
    assert reverse("education:guide", args=["abcde"]) in html
    assert reverse("education:guide", args=["photographing-a-mole"]) in html


def test_every_model_class_has_a_public_page(client, shipped):
    for code in CLASSES:
        assert client.get(reverse("education:condition", args=[code])).status_code == 200, code


def test_condition_page_shows_its_images_advice_and_links(client, shipped):
    melanoma = Condition.objects.get(code="mel")

    response = client.get(f"/learn/{melanoma.code}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Melanoma</h1>" in html
    assert "Malignant type" in html
    assert "What to do and when to see a doctor" in html
    assert "Not a diagnosis." in html
    for image in melanoma.images.all():
        assert image.get_absolute_url() in html
        assert image.caption in html
        assert image.attribution in html
    for resource in melanoma.resources.all():
        assert f'href="{resource.url}"' in html
    # The compact ABCDE box links to the full guide.
    assert reverse("education:guide", args=["abcde"]) in html


def test_unknown_condition_is_404(client, shipped):
    assert client.get("/learn/scc/").status_code == 404


def test_example_images_are_public_and_revalidated(client, shipped):
    image = ExampleImage.objects.filter(condition__code="nv").first()

    response = client.get(image.get_absolute_url())

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    with image.image.open("rb") as fh:
        assert b"".join(response.streaming_content) == fh.read()
    assert "no-cache" in response["Cache-Control"]
    # Unchanged since the browser's copy: nothing to download again.
    again = client.get(image.get_absolute_url(), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_unpublished_condition_is_hidden_from_the_public(client, client_alice, shipped):
    melanoma = Condition.objects.get(code="mel")
    image_url = melanoma.images.first().get_absolute_url()
    Condition.objects.filter(pk=melanoma.pk).update(published=False)

    from django.test import Client

    for visitor in (Client(), client_alice):
        assert visitor.get("/learn/mel/").status_code == 404
        assert visitor.get(image_url).status_code == 404
        index = visitor.get(reverse("education:index"))
        assert 'id="condition-mel"' not in index.content.decode()
        assert 'id="condition-bcc"' in index.content.decode()


def test_staff_editor_can_preview_an_unpublished_condition(client_editor, shipped):
    melanoma = Condition.objects.get(code="mel")
    Condition.objects.filter(pk=melanoma.pk).update(published=False)

    response = client_editor.get("/learn/mel/")

    assert response.status_code == 200
    assert "Preview." in response.content.decode()
    assert client_editor.get(melanoma.images.first().get_absolute_url()).status_code == 200


def test_guides_are_public(client, shipped):
    abcde = client.get(reverse("education:guide", args=["abcde"]))
    photo = client.get(reverse("education:guide", args=["photographing-a-mole"]))

    assert abcde.status_code == 200
    for word in ("Asymmetry", "Border", "Colour", "Diameter", "Evolving"):
        assert f"<h2>{word[0]} is for {word}</h2>" in abcde.content.decode()
    assert photo.status_code == 200
    assert "Hold the camera straight above the spot" in photo.content.decode()


def test_unpublished_guide_is_404_for_the_public(client, shipped):
    Guide.objects.filter(slug="abcde").update(published=False)

    assert client.get(reverse("education:guide", args=["abcde"])).status_code == 404
    assert reverse("education:guide", args=["abcde"]) not in client.get(reverse("education:index")).content.decode()


def test_editor_text_is_shown_as_text_not_run_as_html(client, shipped):
    Condition.objects.filter(code="df").update(
        description="<script>alert('x')</script>\n\n## Signs\n- a **firm** bump\n- a dimple"
    )

    html = client.get("/learn/df/").content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<h3>Signs</h3>" in html
    assert "<ul><li>a <strong>firm</strong> bump</li><li>a dimple</li></ul>" in html


def test_general_links_are_listed_on_the_index(client, shipped):
    Resource.objects.create(title="Skin cancer", url="https://www.example.org/skin", publisher="Example Health")

    html = client.get(reverse("education:index")).content.decode()

    assert 'href="https://www.example.org/skin"' in html
    assert "Example Health" in html


def test_pages_ask_the_browser_to_revalidate(client, shipped):
    for url in ("/learn/", "/learn/nv/", "/learn/guides/abcde/", "/learn/size/"):
        cache_control = client.get(url)["Cache-Control"]
        assert "no-cache" in cache_control and "private" in cache_control


def test_abcde_aside_names_the_five_signs_and_links_to_the_guide(db):
    html = render_to_string("education/_abcde_aside.html")

    for word in ("symmetry", "order", "olour", "iameter", "volving"):
        assert word in html
    assert f'href="{reverse("education:guide", args=["abcde"])}"' in html


def test_each_learn_page_says_not_a_diagnosis_once(client, shipped):
    """In the notice at the top, not again in the footer."""
    from education.models import Guide

    urls = ["/learn/", "/learn/mel/", "/learn/model/", "/learn/size/"] + [
        g.get_absolute_url() for g in Guide.objects.all()[:1]
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.content.decode().count("Not a diagnosis.") == 1, url
