"""Parallel share requests of one account: the daily caps hold and a repeated submit makes one link.

Real threads against PostgreSQL, each request in its own connection and transaction: SQLite's
IMMEDIATE transactions take the write lock up front and serialise the requests anyway, so there
the race cannot show. Run with DATABASE_URL=postgres://.../<database>.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts.tokens import token_create
from sharing.models import ShareLink

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def _post_together(token: str, url: str, bodies: list[dict]) -> list[int]:
    """POST every body at once, one thread (and database connection) each; their status codes."""
    start = threading.Barrier(len(bodies))

    def post(body: dict) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            start.wait()
            return client.post(url, body, format="json").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


@pytest.fixture
def token(alice) -> str:
    return token_create(user=alice, name="parallel")[1]


def test_parallel_links_stop_at_the_daily_cap(token, lesion, settings, eager_tasks):
    settings.SHARE_LINKS_PER_DAY = 10
    bodies = [{"physician_email": "dr@clinic.example", "message": f"Visit {n}"} for n in range(12)]
    codes = _post_together(token, f"/api/lesions/{lesion.pk}/shares/", bodies)
    assert sorted(codes) == [201] * 10 + [429] * 2
    assert ShareLink.objects.count() == 10 and len(mail.outbox) == 10


def test_parallel_physicians_stop_at_the_daily_cap(token, lesion, settings, eager_tasks):
    settings.SHARE_RECIPIENTS_PER_DAY = 5
    bodies = [{"physician_email": f"dr{n}@clinic.example"} for n in range(8)]
    codes = _post_together(token, f"/api/lesions/{lesion.pk}/shares/", bodies)
    assert sorted(codes) == [201] * 5 + [429] * 3
    assert ShareLink.objects.values("physician_email").distinct().count() == 5
    assert len(mail.outbox) == 5


def test_identical_parallel_submits_make_one_link_and_one_email(token, lesion, eager_tasks):
    body = {"physician_email": "dr@clinic.example", "message": "See you Monday"}
    codes = _post_together(token, f"/api/lesions/{lesion.pk}/shares/", [body] * 5)
    assert codes == [201] * 5
    assert ShareLink.objects.count() == 1 and len(mail.outbox) == 1
