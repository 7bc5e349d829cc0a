"""The content migrations after 0002 change only the default wording, never an editor's own."""

import pytest
from django.apps import apps

from education.models import Condition
from education.tests.conftest import plainer_sentences as plainer

pytestmark = pytest.mark.django_db


def _nv_sentence() -> tuple[str, str]:
    old, new = next((old, new) for kind, key, field, old, new in plainer.REPLACEMENTS if key == "nv")
    return old, new


@pytest.fixture(autouse=True)
def _content(shipped):  # the default content, as migrated
    assert Condition.objects.filter(code="nv").exists()


def test_the_default_sentence_is_replaced_and_put_back():
    old, new = _nv_sentence()
    Condition.objects.filter(code="nv").update(description=f"Intro. {old} End.")

    plainer.forwards(apps, None)
    assert Condition.objects.get(code="nv").description == f"Intro. {new} End."

    plainer.backwards(apps, None)
    assert Condition.objects.get(code="nv").description == f"Intro. {old} End."


def test_an_editors_rewrite_is_left_alone():
    Condition.objects.filter(code="nv").update(description="An editor's own words.")

    plainer.forwards(apps, None)

    assert Condition.objects.get(code="nv").description == "An editor's own words."
