"""The account page in a real browser: the data export is a button that works with the session, the
checkboxes' help sits below them, and new recovery codes can be downloaded (and printed)."""

import time
import zipfile

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from lesions import services
from lesions.tests.flows.conftest import browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}

pytestmark = browser_marks


def test_download_my_data_gives_the_zip(browser_page, live_server, alice):
    services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    page = browser_page(**PHONE)
    page.goto(f"{live_server.url}/accounts/settings/")
    button = page.get_by_role("button", name="Download my data")
    assert button.is_visible()
    with page.expect_download() as download:
        button.tap()
    path = download.value.path()
    assert download.value.suggested_filename.startswith("skinsite-export-")
    with zipfile.ZipFile(path) as archive:
        assert "lesions.json" in archive.namelist()
        assert b"Left shoulder" in archive.read("lesions.json")


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


def test_checkbox_help_sits_below_its_words(browser_page, live_server):
    page = browser_page(**PHONE)
    page.goto(f"{live_server.url}/accounts/settings/")
    for name in ("email_on_analysis", "reminders_enabled"):
        label = _box(page.locator(f'label[for="id_{name}"]'))
        help_text = _box(page.locator(f"#id_{name}-help"))
        assert help_text["y"] >= label["y"] + label["height"] - 1, name  # below, not over the words
        assert page.locator(f"#id_{name}").get_attribute("aria-describedby") == f"id_{name}-help"


def test_new_recovery_codes_download_as_a_text_file(browser_page, live_server, alice):
    page = browser_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    page.get_by_label("Code").fill(f"{totp.token():06d}")
    page.get_by_role("button", name="Turn on").click()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert page.get_by_role("button", name="Print").is_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as a text file").click()
    assert download.value.suggested_filename == "skinsite-recovery-codes.txt"
    text = download.value.path().read_text(encoding="utf-8")
    assert alice.email in text and all(code in text for code in codes)
