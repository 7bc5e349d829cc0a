"""Words a patient reads are plain: a 13-year-old follows them, and no engineering word is among them.

What is measured: the prose of every page a patient reads (dashboard, a lesion with photos in each
advice band, their photo pages, the phone capture page, account, two-factor and sharing pages, the
guide on /learn/ and each condition and guide page), the advice sentences of `inference.advice`, and
the emails a patient gets. Not measured: the admin, /learn/model/ and the physician's report, where
statistics belong (shared/STYLE.md: "statistics and model names belong to the physician's details
and the model page").

How: markup is stripped; every block (paragraph, heading, list item, cell, label, button, link,
summary) ends a sentence, so a menu or a form label is read as the short phrase it is rather than
glued into one endless sentence, and blocks under `MIN_WORDS` words are left out of the grade.
Readability is the Flesch-Kincaid grade (textstat 0.7.3: syllables from pyphen's dictionary, no
download): a US school grade, so grade 8 is what a 13-year-old reads. It is taken over each page's
prose as a whole and must be at most `MAX_GRADE`; on Skinsite's own pages and in the advice, no one
sentence may be above `MAX_SENTENCE_GRADE` either. The grade counts long words and long sentences,
nothing more: it cannot tell a plain long word from jargon, which is why `JARGON` is checked too.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import textstat

from education.tests.conftest import shipped  # noqa: F401 (a fixture)
from inference import advice

pytestmark = pytest.mark.django_db

MAX_GRADE = 8.0
# Shorter blocks (a menu item, a button, a date, a table cell) would lower the grade without being read as
# sentences, so they are left out of it (they are still checked for engineering words).
MIN_WORDS = 6
# No one sentence may be much harder than the page: the grade of a page averages its sentences, so one long
# sentence full of long words would hide among short ones. Grade 12 is the end of school.
MAX_SENTENCE_GRADE = 12.0
# Words for engineers and statisticians, as whole words (case-insensitive for the long ones): the
# class codes only as lower-case words, so that "DF" in no sentence or "Mel" in a name are not hits.
JARGON = [
    re.compile(r"\bAUC\b"),
    re.compile(r"\bROC\b"),
    re.compile(r"\b(akiec|bcc|bkl|df|mel|nv|vasc)\b"),
    re.compile(r"validation (photos|images|data|set)", re.I),
    re.compile(r"grad-?cam", re.I),
    re.compile(r"\bsensitivity\b", re.I),
    re.compile(r"\bspecificity\b", re.I),
    re.compile(r"operating point", re.I),
    re.compile(r"\bcalibrat", re.I),
    re.compile(r"\bsoftmax\b|\blogit", re.I),
]
_BLOCKS = {
    "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "label", "button", "a", "dt", "dd",
    "summary", "option", "legend", "figcaption", "caption", "div", "section", "br", "tr", "small", "hgroup",
}  # fmt: skip
_HIDDEN = {"script", "style", "svg", "template", "head", "noscript"}


class _Prose(HTMLParser):
    """The text a reader sees, one block a sentence."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append(". ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append(". ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def prose(html: str) -> str:
    """A page's visible words, each block ending in a full stop."""
    parser = _Prose()
    parser.feed(html)
    text = re.sub(r"\s+", " ", "".join(parser.parts))
    # One full stop per block boundary, none after one already ending the sentence.
    # A block that ends in a colon or semicolon ends there too: a list's lead-in is not one sentence with its items.
    text = re.sub(r"([.!?…])(\s*\.)+", r"\1", text)
    text = re.sub(r"[:;](\s*\.)+", ".", text)
    text = re.sub(r"(\s*\.\s*)+", ". ", text)
    return text.strip(" .")


def sentences(text: str) -> str:
    """The prose of `prose(html)`: its blocks of at least `MIN_WORDS` words, without menus, labels, dates and links
    (a link's address is not read, and would count as one very long word)."""
    text = re.sub(r"https?://\S+", "", text)
    return ". ".join(block for block in text.split(". ") if len(block.split()) >= MIN_WORDS)


def grade(text: str) -> float:
    return float(textstat.flesch_kincaid_grade(text))


def jargon(text: str) -> list[str]:
    return [m.group(0) for pattern in JARGON for m in pattern.finditer(text)]


def problems(name: str, text: str, *, each_sentence: bool = True) -> list[str]:
    """What is not plain in one text: its engineering words, and its grade when above `MAX_GRADE`."""
    found = []
    if words := jargon(text):
        found.append(f"{name}: words for engineers {sorted(set(words))}")
    if (level := grade(sentences(text))) > MAX_GRADE:
        found.append(f"{name}: Flesch-Kincaid grade {level} > {MAX_GRADE}")
    for sentence in sentences(text).split(". ") if each_sentence else []:
        if (level := grade(sentence)) > MAX_SENTENCE_GRADE:
            found.append(f"{name}: a sentence at grade {level} > {MAX_SENTENCE_GRADE}: {sentence!r}")
    return found


def assert_plain(texts: dict[str, str], *, each_sentence: bool = True) -> None:
    found = [problem for name, text in texts.items() for problem in problems(name, text, each_sentence=each_sentence)]
    assert not found, "\n".join(found)


@pytest.fixture
def assessed(lesion, real_image_bytes):
    """Alice's lesion with three finished photos, one in each band, their advice stored as the worker stores it."""
    from conftest import finish_analysis, upload
    from inference.services import installed_model_card
    from lesions import services

    photos = []
    for probabilities in ({"nv": 0.98, "mel": 0.02}, {"nv": 0.8, "mel": 0.2}, {"nv": 0.3, "mel": 0.7}):
        photo = services.photo_create(lesion=lesion, upload=upload(real_image_bytes))
        analysis = finish_analysis(photo, **probabilities)
        analysis.advice = advice.advice_for(
            malignant_probability=analysis.malignant_probability, card=installed_model_card()
        )
        analysis.save()
        photos.append(photo)
    return photos


def _patient_pages(client, lesion, photos) -> dict[str, str]:
    urls = ["/lesions/", f"/lesions/{lesion.pk}/", *(f"/lesions/photos/{photo.pk}/" for photo in photos)]
    urls += ["/lesions/capture/", "/lesions/new/", "/accounts/settings/", "/accounts/two-factor/"]
    urls += [f"/lesions/{lesion.pk}/share/", "/lesions/shares/", "/lesions/shares/new/", "/lesions/dermatoscopes/"]
    return {url: client.get(url).content.decode() for url in urls}


def test_the_patients_pages_are_plain(client_alice, lesion, assessed):
    pages = _patient_pages(client_alice, lesion, assessed)
    assert "In the model's tests" in prose(pages[f"/lesions/{lesion.pk}/"])  # the advice is among what is measured
    assert_plain({url: prose(html) for url, html in pages.items()})


@pytest.mark.usefixtures("shipped")
def test_the_guide_is_plain(client):
    from education.models import Condition, Guide, Resource

    urls = ["/learn/"] + [f"/learn/{c.code}/" for c in Condition.objects.filter(published=True)]
    urls += [f"/learn/guides/{g.slug}/" for g in Guide.objects.filter(published=True)]
    urls += ["/learn/size/"]
    pages = {url: client.get(url) for url in urls}
    assert all(response.status_code == 200 for response in pages.values())
    # A condition's medical name ("actinic keratosis / intraepithelial carcinoma") and a publisher's ("American
    # Osteopathic College of Dermatology") are names: no rewording makes them short, and a reader takes each as one
    # word. Each is read as one short word; every other word counts, and every sentence is graded.
    names = [*Condition.objects.values_list("name", flat=True), *Resource.objects.values_list("publisher", flat=True)]
    names = sorted({name for name in names if name}, key=len, reverse=True)

    def plain_names(text: str) -> str:
        for name in names:
            text = re.sub(re.escape(name), "Name", text, flags=re.I)
        return text

    assert_plain({url: plain_names(prose(response.content.decode())) for url, response in pages.items()})


@pytest.mark.parametrize("band", [*advice.BANDS, None])
def test_the_advice_sentences_are_plain(band):
    point = {"threshold": 0.3, "sensitivity": 0.96, "specificity": 0.9}
    assert_plain(
        {
            "title": advice.TITLES[band],
            "text": advice.TEXTS[band].format(**point),
            "changed": advice.CHANGED_TITLES.get(band or "", "Changed") + "." + advice.CHANGE_TEXT,
            "notice": advice.NOTICE,
        }
    )


@pytest.mark.parametrize("band", advice.BANDS)
@pytest.mark.parametrize("photo_type", sorted(advice.TYPE_WORDS))
def test_the_advice_sentences_for_one_photo_type_are_plain(band, photo_type):
    point = {"threshold": 0.02, "sensitivity": 0.96, "specificity": 0.26}
    assert_plain({"text": advice.TYPE_TEXTS[band].format(kind=advice.TYPE_WORDS[photo_type], **point)})


def _email_prose(message) -> str:
    """The subject and the HTML part (the plain-text part says the same), or the text of a text-only email."""
    html = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    body = prose(html[0]) if html else ". ".join(line for line in message.body.splitlines() if line.strip())
    return message.subject + ". " + body


def test_the_emails_a_patient_gets_are_plain(alice, lesion, done_photo):
    from accounts import emails as account_emails
    from lesions import emails as lesion_emails

    analysis = done_photo.analyses.get()
    messages = {
        "analysis finished": lesion_emails.analysis_finished(analysis=analysis),
        "analyses finished": lesion_emails.analyses_finished(owner=alice, analyses=[analysis]),
        "change alert": lesion_emails.change_alert(analysis=analysis),
        "email confirmation": account_emails.email_confirmation(user=alice),
        "password reset": account_emails.password_reset(user=alice),
        "sign-up attempt": account_emails.sign_up_attempt_notice(user=alice),
    }
    # Each email as a whole only, for now: the change alert's first sentence is long (grade 14.6); the emails are
    # being rebuilt around the lesion's headline, and that sentence goes with them.
    assert_plain({name: _email_prose(message) for name, message in messages.items()}, each_sentence=False)


def test_the_measure_flags_what_the_issue_found():
    # The advice as issue 21 quoted it: grade 12.6 and "validation photos"; a card's "Grad-CAM" and class code.
    old = (
        "The model's chance of a malignant type is at or above the level that 95% of benign lesions stay below on "
        "validation photos (it finds 54% of malignant ones there)."
    )
    assert grade(old) > MAX_GRADE and jargon(old) == ["validation photos"]
    assert jargon(prose("<tr><td>mel</td><td>Melanoma</td></tr><small>A heatmap (Grad-CAM)</small>")) == [
        "mel",
        "Grad-CAM",
    ]
