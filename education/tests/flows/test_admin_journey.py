"""An admin's way in Debian's Chromium, at a phone and a desktop size: log in, set up two-factor
authentication (the admin requires it), edit a condition's page in the admin, and /learn/ shows
the edit. Each page is checked with axe-core and, on the phone, for sideways scrolling.
"""

import re
import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import User
from conftest import PASSWORD
from education.models import Condition
from lesions.tests.flows.conftest import browser_marks
from lesions.tests.flows.journey import SCREENS, Journey, axe_marks

pytestmark = [*browser_marks, *axe_marks]
SUMMARY = "A common, harmless mole. Watch it for changes in size, shape or colour."


def _code(device: TOTPDevice) -> str:
    """What the admin's authenticator app shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


@SCREENS
def test_an_admin_sets_up_two_factor_and_edits_a_condition(browser_page, live_server, screen):
    User.objects.create_user(email="ada@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    # The content migration's rows do not outlive an earlier test's flush: make sure the page exists.
    condition, _ = Condition.objects.update_or_create(
        code="nv",
        defaults={
            "name": "Melanocytic nevus (mole)",
            "summary": "A mole.",
            "description": "A mole is a small growth of pigment cells.",
            "advice": "See a doctor if it changes.",
            "published": True,
        },
    )
    page = browser_page(**screen)
    page.context.clear_cookies()  # not alice
    journey = Journey(page, name="admin", screen=screen)
    tap = (lambda locator: locator.tap()) if journey.phone else (lambda locator: locator.click())

    page.goto(f"{live_server.url}/admin/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    journey.check()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    tap(page.get_by_role("main").get_by_role("button", name="Log in"))

    # Staff without two-factor are sent to set it up: the key is on the page, the code from the app.
    expect(page.get_by_text("Staff accounts need two-factor authentication")).to_be_visible()
    journey.check("two-factor-setup")
    device = TOTPDevice.objects.get(user__email="ada@example.com", confirmed=False)
    assert page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label(re.compile("code", re.I)).first.fill("000000")  # mistyped first
    tap(page.get_by_role("button", name="Turn on"))
    expect(page.locator(".errorlist")).to_be_visible()
    journey.check()
    page.get_by_label(re.compile("code", re.I)).first.fill(_code(device))
    tap(page.get_by_role("button", name="Turn on"))
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    assert page.locator(".recovery-codes li").count() == 10
    journey.check("recovery-codes")
    recovery_code = page.locator(".recovery-codes li").first.inner_text().strip()

    # Log out, and in again: the password, then the second step (a recovery code, as after a lost phone).
    tap(page.get_by_role("button", name="Log out"))
    expect(page.get_by_role("navigation").get_by_role("link", name="Log in")).to_be_visible()
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    tap(page.get_by_role("main").get_by_role("button", name="Log in"))
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    journey.check()
    page.get_by_label(re.compile("code", re.I)).first.fill(recovery_code)
    tap(page.get_by_role("main").get_by_role("button", name="Log in"))

    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    journey.check()
    tap(page.get_by_role("link", name="Conditions", exact=True).first)
    expect(page).to_have_url(re.compile(r".*/admin/education/condition/$"))
    journey.check()
    tap(page.get_by_role("link", name=condition.name).first)
    expect(page).to_have_url(re.compile(rf".*/admin/education/condition/{condition.pk}/change/$"))
    page.get_by_label("Summary").fill(SUMMARY)
    journey.check("edit-condition")
    tap(page.get_by_role("button", name="Save", exact=True))
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    journey.check()
    condition.refresh_from_db()
    assert condition.summary == SUMMARY

    page.goto(f"{live_server.url}/learn/")
    expect(page.locator("#condition-nv")).to_contain_text(SUMMARY)
    journey.check("learn")

    journey.assert_clean()
