"""A logged-in Chromium page (Debian's, never a downloaded browser) against the live server."""

import os
import shutil

import pytest
from django.db import connections
from django.test import Client

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

browser_marks = [
    pytest.mark.django_db(transaction=True),  # the live server and the worker see committed rows
    # Skipped on a developer's machine without Chromium; CI (.ci/run installs it) must run it.
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
        reason="needs Debian's chromium (apt-get install chromium)",
    ),
]


@pytest.fixture
def browser_page(live_server, alice, tmp_path, monkeypatch):
    """Call with Playwright context options (viewport, is_mobile…) to get alice's logged-in page."""
    from playwright.sync_api import expect, sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code, which Django would otherwise refuse here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # expect() waits 5 s by default, not the pages' 20 s: too short on a loaded CI machine, where
    # the live server may take longer to warp an aligned photo or answer a page.
    expect.set_options(timeout=20_000)
    client = Client()
    client.force_login(alice)
    contexts = []
    with sync_playwright() as playwright:

        def open_page(**options):
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / f"chromium-profile-{len(contexts)}"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                **options,
            )
            contexts.append(context)
            context.add_cookies(
                [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
            )
            page = context.new_page()
            page.set_default_timeout(20_000)
            return page

        yield open_page
        for context in contexts:
            context.close()
        expect.set_options(timeout=None)  # back to Playwright's default for whatever runs next
        # The test's ORM calls ran inside Playwright's greenlet, where Django keeps a connection of
        # its own; left open, it would stop the test database from being dropped.
        connections.close_all()
