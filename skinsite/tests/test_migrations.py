"""An existing database upgrades with its rows, from the first migration to today's, and back.

The sharing models left `lesions` for `sharing` (lesions 0006, sharing 0001) and `Analysis` left it
for `inference` (lesions 0007, inference 0001), with their tables. The first test goes back to the
schema before the moves, writes rows the way that code did, migrates forward and reads them through
today's models. The second starts from the project's first migrations (accounts and lesions 0001:
users, lesions, photos, analyses; shares came with lesions 0002), migrates to today's, then all the
way back (every migration is reversible), checking the rows at each stop.
"""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from inference.models import Analysis
from lesions.models import Photo
from sharing.models import PhysicianNote, ShareAccess, ShareLink

MOVED_FROM = ("lesions", "0005_analysis_inputs")  # the last migration before the moves
MOVED_TO = ("sharing", "inference")
# The project's first schema: our apps at their first migration, or not there yet (their first
# migration depends on a later lesions one); Django's and the libraries' apps as they are now.
FIRST = {
    "accounts": "0001_initial",
    "lesions": "0001_initial",
    "education": "0001_initial",
    "sharing": None,
    "inference": None,
}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # see what the previous migrate applied
    executor.migrate(targets)
    # (app, None): the app unmigrated, which has no state of its own.
    return executor.loader.project_state([node for node in targets if node[1] is not None]).apps


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _first_migrations():
    return list(FIRST.items()) + [node for node in _leaves() if node[0] not in FIRST]


def _before_the_moves():
    """Every other app as it is now, lesions just before the moves, the apps it moved to not there yet."""
    graph = MigrationExecutor(connection).loader.graph
    apps = {app for app, _ in graph.leaf_nodes()} - {MOVED_FROM[0], *MOVED_TO}
    return [MOVED_FROM] + [node for node in graph.leaf_nodes() if node[0] in apps]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_moves_are_there_after_them():
    old = _migrate(_before_the_moves())
    user = old.get_model("accounts", "User").objects.create(email="alice@example.com", password="x")
    lesion = old.get_model("lesions", "Lesion").objects.create(owner=user, name="Left shoulder", body_site="back")
    photo = old.get_model("lesions", "Photo").objects.create(
        lesion=lesion, image="photos/a.jpg", taken_at=timezone.now(), sha256="b" * 64
    )
    old.get_model("lesions", "Analysis").objects.create(
        photo=photo, model_version="v1", status="done", p_nv=0.9, predicted_class="nv", heatmap="heatmaps/h.jpg"
    )
    expires = timezone.now() + timedelta(days=30)
    link = old.get_model("lesions", "ShareLink").objects.create(
        owner=user, lesion=lesion, physician_email="dr@clinic.example", token_hash="a" * 64, expires_at=expires
    )
    old.get_model("lesions", "ShareAccess").objects.create(share=link, kind="pdf")
    old.get_model("lesions", "PhysicianNote").objects.create(
        lesion=lesion, share=link, author_email="dr@clinic.example", body="Re-photograph in 3 months."
    )
    ContentType.objects.clear_cache()

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    share = ShareLink.objects.get()
    assert (share.pk, share.owner.email, share.lesion.name) == (link.pk, "alice@example.com", "Left shoulder")
    assert (share.token_hash, share.expires_at, share.status) == ("a" * 64, expires, "active")
    assert list(share.accesses.values_list("kind", flat=True)) == ["pdf"]
    note = PhysicianNote.objects.get()
    assert (note.share_id, note.lesion.name, note.body) == (share.pk, "Left shoulder", "Re-photograph in 3 months.")
    analysis = Analysis.objects.get()
    assert (analysis.photo_id, analysis.model_version, analysis.status) == (photo.pk, "v1", "done")
    assert (analysis.probabilities["nv"], analysis.predicted_label, analysis.heatmap.name) == (
        0.9,
        "Melanocytic nevus (mole)",
        "heatmaps/h.jpg",
    )
    assert list(Photo.objects.get(pk=photo.pk).analyses.all()) == [analysis]
    # The admin's history and permissions follow the models: their content types were renamed.
    ContentType.objects.clear_cache()
    for model, app in (
        (ShareLink, "sharing"),
        (ShareAccess, "sharing"),
        (PhysicianNote, "sharing"),
        (Analysis, "inference"),
    ):
        assert ContentType.objects.get_for_model(model).app_label == app
    moved = ["sharelink", "shareaccess", "physiciannote", "analysis"]
    assert not ContentType.objects.filter(app_label="lesions", model__in=moved).exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_with_photos_analyses_and_shares_migrates_from_the_first_migration_and_back():
    try:
        _upgrade_and_downgrade_with_rows()
    finally:
        # Whatever happened, leave today's schema for the tests that follow.
        ContentType.objects.clear_cache()
        _migrate(_leaves())


def _upgrade_and_downgrade_with_rows():
    first = _migrate(_first_migrations())
    user = first.get_model("accounts", "User").objects.create(email="alice@example.com", password="x")
    lesion = first.get_model("lesions", "Lesion").objects.create(owner=user, name="Left shoulder", body_site="back")
    taken = timezone.now() - timedelta(days=10)
    photo = first.get_model("lesions", "Photo").objects.create(
        lesion=lesion, image="photos/a.jpg", taken_at=taken, sha256="c" * 64, width=640, height=480
    )
    first.get_model("lesions", "Analysis").objects.create(
        photo=photo, model_version="v0", status="done", p_mel=0.2, p_nv=0.8, predicted_class="nv"
    )
    # Shares arrived with lesions 0002: write them with that code.
    second = _migrate(
        [
            ("lesions", "0002_sharing_notes_recheck") if app == "lesions" else (app, name)
            for app, name in _first_migrations()
        ]
    )
    expires = timezone.now() + timedelta(days=30)
    link = second.get_model("lesions", "ShareLink").objects.create(
        owner_id=user.pk,
        lesion_id=lesion.pk,
        physician_email="dr@clinic.example",
        token_hash="d" * 64,
        expires_at=expires,
    )
    second.get_model("lesions", "ShareAccess").objects.create(share=link, kind="report")
    second.get_model("lesions", "PhysicianNote").objects.create(
        lesion_id=lesion.pk, share=link, author_email="dr@clinic.example", body="Looks stable."
    )
    ContentType.objects.clear_cache()

    # Today's schema, read through today's models.
    _migrate(_leaves())
    today_photo = Photo.objects.get()
    assert (today_photo.pk, today_photo.lesion.name, today_photo.lesion.owner.email) == (
        photo.pk,
        "Left shoulder",
        "alice@example.com",
    )
    assert (today_photo.image.name, today_photo.sha256, today_photo.taken_at) == ("photos/a.jpg", "c" * 64, taken)
    analysis = Analysis.objects.get()
    assert (analysis.photo_id, analysis.model_version, analysis.status, analysis.predicted_class) == (
        photo.pk,
        "v0",
        "done",
        "nv",
    )
    assert analysis.probabilities["mel"] == 0.2
    share = ShareLink.objects.get()
    assert (share.pk, share.lesion_id, share.token_hash, share.status) == (link.pk, lesion.pk, "d" * 64, "active")
    assert list(share.accesses.values_list("kind", flat=True)) == ["report"]
    assert list(PhysicianNote.objects.values_list("share_id", "body")) == [(share.pk, "Looks stable.")]

    # Back to the schema before the moves: the rows return to lesions' tables.
    ContentType.objects.clear_cache()
    old = _migrate(_before_the_moves())
    assert list(old.get_model("lesions", "Analysis").objects.values_list("photo_id", "model_version", "p_nv")) == [
        (photo.pk, "v0", 0.8)
    ]
    assert list(old.get_model("lesions", "ShareLink").objects.values_list("pk", "token_hash")) == [(link.pk, "d" * 64)]
    assert old.get_model("lesions", "ShareAccess").objects.filter(share_id=link.pk).count() == 1
    assert old.get_model("lesions", "PhysicianNote").objects.get().body == "Looks stable."

    # And back to the first migrations: users, lesions, photos and analyses are still there
    # (shares, which the first schema did not have, leave with their tables).
    ContentType.objects.clear_cache()
    first = _migrate(_first_migrations())
    assert list(first.get_model("accounts", "User").objects.values_list("email", flat=True)) == ["alice@example.com"]
    assert list(first.get_model("lesions", "Photo").objects.values_list("pk", "lesion__name", "sha256")) == [
        (photo.pk, "Left shoulder", "c" * 64)
    ]
    assert list(first.get_model("lesions", "Analysis").objects.values_list("photo_id", "status", "p_mel")) == [
        (photo.pk, "done", 0.2)
    ]
