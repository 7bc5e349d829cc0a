"""Fixtures for the education tests: the shipped content, a content editor and a staff client."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage

from education.models import CONTENT_EDITOR_GROUP, Condition, ExampleImage

default_content = importlib.import_module("education.migrations.0002_default_content")
editor_group = importlib.import_module("education.migrations.0003_content_editor_group")
plainer_sentences = importlib.import_module("education.migrations.0004_plainer_sentences")


@pytest.fixture
def shipped(db) -> None:
    """The default content and the editor group, as the data migrations left them.

    Each test stores media in its own folder, so the committed images are copied there for the rows the
    migration created. A test elsewhere that flushes the database (transactional_db) also removes
    migration data; then the migrations' own functions put it back.
    """
    if not Condition.objects.exists():
        default_content.load_default_content(django_apps, None)
        plainer_sentences.forwards(django_apps, None)
    if not Group.objects.filter(name=CONTENT_EDITOR_GROUP).exists():
        editor_group.create_group(django_apps, None)
    for image in ExampleImage.objects.all():
        if not default_storage.exists(image.image.name):
            default_content.store_image(image.image.name.rsplit("/", 1)[-1])


@pytest.fixture
def editor(shipped):
    """A staff user in the content editor group, and nothing more."""
    from accounts.models import User

    user = User.objects.create_user(email="editor@example.com", password="x-editor-pass-9", is_staff=True)
    user.groups.add(Group.objects.get(name=CONTENT_EDITOR_GROUP))
    return user


@pytest.fixture
def client_editor(client, editor, verified_login):
    # Staff reach the admin only with a session verified by a two-factor code.
    return verified_login(client, editor)
