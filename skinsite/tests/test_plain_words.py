"""Words a patient reads are plain: a 13-year-old follows them, and no engineering word is among them.

What is measured: the prose of every page a patient reads (dashboard, a lesion with a finished
analysis, its photo page, the phone capture page, account, two-factor and sharing pages, the guide
on /learn/ and each condition and guide page), the advice sentences of `inference.advice`, and the
emails a patient gets. Not measured: the admin, /learn/model/ and the physician's report, where
statistics belong (docs/STYLE: "statistics and model names belong to the physician's details and the
model page").

How: markup is stripped; every block (paragraph, heading, list item, cell, label, button, link,
summary) ends a sentence, so a menu or a form label is read as the short phrase it is rather than
glued into one endless sentence. Readability is the Flesch-Kincaid grade (textstat 0.7.3: syllables
from pyphen's dictionary, no download): a US school grade, so grade 8 is what a 13-year-old reads.
It is taken over each page's prose as a whole, and over each advice sentence alone, and must be at
most `MAX_GRADE`. The grade counts long words and long sentences, nothing more: it cannot tell a
plain long word from jargon, which is why the jargon list below is checked as well.
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
    text = re.sub(r"([.!?:;…])(\s*\.)+", r"\1", text)
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


def problems(name: str, text: str) -> list[str]:
    """What is not plain in one text: its engineering words, and its grade when above `MAX_GRADE`."""
    found = []
    if words := jargon(text):
        found.append(f"{name}: words for engineers {sorted(set(words))}")
    if (level := grade(sentences(text))) > MAX_GRADE:
        found.append(f"{name}: Flesch-Kincaid grade {level} > {MAX_GRADE}")
    return found


def assert_plain(texts: dict[str, str]) -> None:
    found = [problem for name, text in texts.items() for problem in problems(name, text)]
    assert not found, "\n".join(found)


def _patient_pages(client, lesion, photo) -> dict[str, str]:
    return {
        url: client.get(url).content.decode()
        for url in (
            "/lesions/",
            f"/lesions/{lesion.pk}/",
            f"/lesions/photos/{photo.pk}/",
            "/lesions/capture/",
            "/lesions/new/",
            "/accounts/settings/",
            "/accounts/two-factor/",
            f"/lesions/{lesion.pk}/share/",
            "/lesions/shares/",
            "/lesions/shares/new/",
        )
    }


def test_the_patients_pages_are_plain(client_alice, lesion, done_photo):
    assert_plain({url: prose(html) for url, html in _patient_pages(client_alice, lesion, done_photo).items()})


@pytest.mark.usefixtures("shipped")
def test_the_guide_is_plain(client):
    from education.models import Condition, Guide

    urls = ["/learn/"] + [f"/learn/{c.code}/" for c in Condition.objects.filter(published=True)]
    urls += [f"/learn/guides/{g.slug}/" for g in Guide.objects.filter(published=True)]
    pages = {url: client.get(url) for url in urls}
    assert all(response.status_code == 200 for response in pages.values())
    assert_plain({url: prose(response.content.decode()) for url, response in pages.items()})


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
    assert_plain({name: _email_prose(message) for name, message in messages.items()})
