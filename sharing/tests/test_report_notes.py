"""A physician leaves a note through the link; the patient sees it on the lesion's timeline."""

import pytest
from django.core import mail

from conftest import jpeg_bytes, open_report, upload
from lesions import services
from sharing import services as sharing_services
from sharing.models import PhysicianNote, ShareAccess

pytestmark = pytest.mark.django_db

NOTE = "Looks benign, re-photograph in 3 months."


def test_physician_leaves_a_note_that_the_patient_sees(
    client, client_alice, share, lesion, eager_tasks, django_capture_on_commit_callbacks
):
    physician = client.__class__()
    with django_capture_on_commit_callbacks(execute=True):
        response = physician.post(f"{open_report(physician, share.token)}lesions/{lesion.pk}/notes/", {"body": NOTE})
    assert response.status_code == 302
    assert response["Location"] == f"/report/{share.pk}/#lesion-{lesion.pk}"
    note = PhysicianNote.objects.get()
    assert (note.lesion, note.share, note.author_email, note.body) == (lesion, share, "dr@clinic.example", NOTE)
    assert share.accesses.filter(kind=ShareAccess.Kind.NOTE).exists()
    # The physician sees their note on the report, with a confirmation.
    report = physician.get(response["Location"]).content.decode()
    assert NOTE in report and "was sent to Alice" in report
    # The patient sees it on the lesion's page, and got an email about it.
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert NOTE in page and "dr@clinic.example" in page
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]


def test_an_empty_note_is_refused_with_a_message(client, share, lesion):
    response = client.post(f"{open_report(client, share.token)}lesions/{lesion.pk}/notes/", {"body": "   "})
    assert response.status_code == 400
    assert "Write the note before sending it." in response.content.decode()
    assert not PhysicianNote.objects.exists()


def test_a_dead_link_takes_no_note(client, share, lesion):
    report = open_report(client, share.token)
    sharing_services.share_link_revoke(share=share)
    assert client.post(f"{report}lesions/{lesion.pk}/notes/", {"body": NOTE}).status_code == 410
    assert not PhysicianNote.objects.exists()


def test_notes_need_post(client, share, lesion):
    assert client.get(f"{open_report(client, share.token)}lesions/{lesion.pk}/notes/").status_code == 405


def test_bobs_note_cannot_land_on_alices_lesion_except_through_her_link(
    client, bob, lesion, django_capture_on_commit_callbacks
):
    # Bob, logged in, with a valid link to his own lesion, aims at alice's lesion.
    bobs_lesion = services.lesion_create(owner=bob, name="Bob's mole")
    services.photo_create(lesion=bobs_lesion, upload=upload(jpeg_bytes()))
    with django_capture_on_commit_callbacks():
        _, bobs_token = sharing_services.share_link_create(
            owner=bob, lesion=bobs_lesion, physician_email="bob@example.com"
        )
    client.force_login(bob)
    response = client.post(f"{open_report(client, bobs_token)}lesions/{lesion.pk}/notes/", {"body": "mine now"})
    assert response.status_code == 404
    # A link to all of bob's lesions does not reach alice's either.
    with django_capture_on_commit_callbacks():
        _, bobs_all = sharing_services.share_link_create(owner=bob, physician_email="bob@example.com")
    assert (
        client.post(f"{open_report(client, bobs_all)}lesions/{lesion.pk}/notes/", {"body": "mine now"}).status_code
        == 404
    )
    assert not PhysicianNote.objects.filter(lesion=lesion).exists()


def test_the_report_shows_only_the_notes_left_through_this_link(
    client, alice, share, lesion, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        other, _ = sharing_services.share_link_create(owner=alice, lesion=lesion, physician_email="b@clinic.example")
    PhysicianNote.objects.create(lesion=lesion, share=other, author_email=other.physician_email, body="From B")
    PhysicianNote.objects.create(lesion=lesion, share=share, author_email=share.physician_email, body="From A")
    page = client.get(f"{open_report(client, share.token)}").content.decode()
    assert "From A" in page and "From B" not in page
