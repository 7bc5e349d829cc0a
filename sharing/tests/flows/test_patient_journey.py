"""A new patient's whole way through Skinsite in Debian's Chromium, at a phone and a desktop size.

Sign up, confirm the address from the email, log in, place a lesion on the body map, upload two
photos, read the result, compare them, share the lesion with a physician and export everything.
Every form is submitted by the browser itself; each page it reaches is checked with axe-core
(WCAG 2.2 A/AA) and, on the phone, for sideways scrolling (lesions/tests/flows/journey.py). No
worker runs: the analyses are finished by hand, as a worker would.
"""

import re
import zipfile

from django.core import mail
from playwright.sync_api import expect

from accounts.models import User
from conftest import CHANGE_PAIR, PASSWORD, finish_analysis, lesion_image_paths
from lesions.models import Lesion, Photo
from lesions.tests.flows.conftest import browser_marks
from lesions.tests.flows.journey import SCREENS, Journey, axe_marks
from sharing.models import ShareLink

pytestmark = [*browser_marks, *axe_marks]
EMAIL = "sam@example.com"


def _tap(journey: Journey, locator) -> None:
    """A finger on the phone, a mouse on the desktop."""
    locator.tap() if journey.phone else locator.click()


@SCREENS
def test_a_new_patient_from_sign_up_to_export(browser_page, live_server, screen, tmp_path, eager_tasks):
    page = browser_page(**screen)
    page.context.clear_cookies()  # a new visitor, not alice
    journey = Journey(page, name="patient", screen=screen)

    page.goto(live_server.url)
    journey.check()
    _tap(journey, page.get_by_role("button", name="Sign up").first)
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    journey.check()
    page.get_by_label("Email address").fill(EMAIL)
    page.locator("#id_password1").fill(PASSWORD)  # its label holds the rules too
    page.get_by_label("Password confirmation").fill(PASSWORD + "x")  # a slip first: the error is read too
    _tap(journey, page.get_by_role("main").get_by_role("button", name="Sign up"))
    expect(page.locator(".errorlist")).to_be_visible()
    journey.check()
    page.locator("#id_password1").fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    _tap(journey, page.get_by_role("main").get_by_role("button", name="Sign up"))
    expect(page.get_by_text(f"We sent an email to {EMAIL}")).to_be_visible()
    journey.check()

    # The confirmation link, as the email carries it.
    (message,) = [m for m in mail.outbox if EMAIL in m.to]
    link = re.search(r"https?://\S+/accounts/confirm/\S+/", message.body).group(0)
    page.goto(live_server.url + link[link.index("/accounts/") :])
    journey.check()
    _tap(journey, page.get_by_role("button", name="Confirm"))
    expect(page.get_by_text("your email address is confirmed")).to_be_visible()
    assert User.objects.get(email=EMAIL).email_confirmed
    journey.check()  # the log-in page, with the message

    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    _tap(journey, page.get_by_role("button", name="Log in"))
    expect(page.get_by_role("heading", name="My lesions")).to_be_visible()
    journey.check()

    # A lesion, placed by a tap (a click on the desktop) on the back of the body map.
    page.locator("#id_name").fill("Mole on my back")
    _tap(journey, page.get_by_role("button", name="Back", exact=True))
    page.locator("#pick-back-back").scroll_into_view_if_needed()
    region = page.locator("#pick-back-back").bounding_box()
    x, y = region["x"] + region["width"] / 2, region["y"] + region["height"] * 0.3
    page.touchscreen.tap(x, y) if journey.phone else page.mouse.click(x, y)
    expect(page.locator("#id_body_site")).to_have_value("back")
    journey.check("body-map")
    _tap(journey, page.get_by_role("button", name="Add lesion"))
    expect(page).to_have_url(re.compile(r".*/lesions/\d+/$"))
    lesion = Lesion.objects.get(owner__email=EMAIL)
    assert page.url == f"{live_server.url}/lesions/{lesion.pk}/"
    assert lesion.map_view == "back"
    journey.check()

    # Two photos of the same lesion, months apart, each uploaded by the form.
    first_image = next(p for p in lesion_image_paths() if p.name == "ISIC_0024317.jpg")
    for number, image in enumerate([first_image, CHANGE_PAIR], start=1):
        page.get_by_label("Or choose a file").set_input_files(str(image))
        page.get_by_label("Taken on").fill("2026-03-02T10:00" if number == 1 else "2026-09-01T10:00")
        _tap(journey, page.get_by_role("button", name="Upload photo"))
        expect(page.get_by_text("Photo saved.")).to_be_visible()
        journey.check()
        assert Photo.objects.filter(lesion=lesion).count() == number
    first, later = Photo.objects.filter(lesion=lesion).order_by("taken_at")
    finish_analysis(first)
    finish_analysis(later, nv=0.7, bkl=0.2, mel=0.1)

    # The dashboard: the lesion's dot on the body map and its card with the latest result.
    _tap(journey, page.get_by_role("banner").get_by_role("link", name="My lesions"))
    expect(page.locator(f'.bodymap-dot[data-lesion="{lesion.pk}"]')).to_be_visible()
    journey.check("dashboard")
    if journey.phone:  # the camera's own page, as a phone reaches it from a lesion
        page.goto(f"{live_server.url}/lesions/capture/?lesion={lesion.pk}")
        expect(page.locator("#capture-button")).to_be_visible()
        journey.check()
        page.go_back()
    _tap(journey, page.get_by_role("link", name="Mole on my back").first)
    expect(page).to_have_url(f"{live_server.url}/lesions/{lesion.pk}/")
    expect(page.locator(f"a[href='/lesions/photos/{later.pk}/']").first).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("1 Sep 2026")
    page.get_by_role("heading", name="Timeline").scroll_into_view_if_needed()
    journey.check("timeline")
    _tap(journey, page.locator(f"a[href='/lesions/photos/{later.pk}/']").first)
    expect(page).to_have_url(f"{live_server.url}/lesions/photos/{later.pk}/")
    journey.check("result")

    page.goto(f"{live_server.url}/lesions/{lesion.pk}/")
    _tap(journey, page.get_by_role("button", name="Compare two photos"))
    expect(page).to_have_url(re.compile(rf".*/lesions/{lesion.pk}/compare/.*"))
    page.locator("[data-compare-top] img.layer-photo[src*='layer=photo']").wait_for()
    journey.check("compare")

    # Share with a physician: the form on the lesion page.
    page.goto(f"{live_server.url}/lesions/{lesion.pk}/#share")
    page.get_by_label("Physician's email address").fill("dr@clinic.example")
    page.get_by_label("Your name, as the physician will see it").fill("Sam")
    _tap(journey, page.get_by_role("button", name="Send the link"))
    expect(page.get_by_role("heading", name="Report shared")).to_be_visible()
    assert ShareLink.objects.filter(lesion=lesion, physician_email="dr@clinic.example").exists()
    journey.check("shared")

    # Export: the PDF of every lesion from the shared reports page, and the ZIP of everything.
    _tap(journey, page.get_by_role("link", name="See all your shared reports"))
    expect(page).to_have_url(f"{live_server.url}/lesions/shares/")
    journey.check()
    with page.expect_download() as download:
        _tap(journey, page.get_by_role("button", name="Download all as PDF"))
    pdf = tmp_path / "all.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    page.goto(f"{live_server.url}/accounts/settings/")
    journey.check()
    with page.expect_download() as download:
        _tap(journey, page.get_by_role("button", name="Download my data"))
    download.value.save_as(tmp_path / "export.zip")
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        assert "lesions.json" in archive.namelist()

    # What the analysis is and how good it is: the footer's link, on every page.
    _tap(journey, page.get_by_role("contentinfo").get_by_role("link", name="How the analysis works"))
    expect(page).to_have_url(f"{live_server.url}/learn/model/")
    journey.check()

    journey.assert_clean()
