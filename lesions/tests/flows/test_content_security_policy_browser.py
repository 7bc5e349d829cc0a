"""Under the real Content-Security-Policy, in Chromium: pages run their scripts and the browser
reports no violation (Swagger UI, the lesion page with its chart, the account pages)."""

import pytest

from lesions import services
from lesions.tests.flows.conftest import browser_marks

pytestmark = browser_marks


def test_pages_run_under_the_policy_without_violations(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    page = browser_page()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    paths = ("/", "/api/docs/", f"/lesions/{lesion.pk}/", "/accounts/settings/", "/accounts/two-factor/", "/learn/")
    for path in paths:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    assert violations == []
    page.goto(live_server.url + "/api/docs/")
    page.locator(".swagger-ui .opblock").first.wait_for()  # Swagger UI started from its script file
    assert violations == []


@pytest.mark.parametrize("path", ["/accounts/two-factor/"])
def test_the_two_factor_qr_code_shows(browser_page, live_server, path):
    page = browser_page()
    page.goto(live_server.url + path)
    qr = page.get_by_alt_text("QR code to add Skinsite to an authenticator app")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
