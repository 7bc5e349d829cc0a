"""Building an email from templates/emails/: `<name>-subject.txt`, `<name>-body.txt`, `<name>-body.html`.

Apps build their messages with `message` and send them from Celery tasks, so a slow or failing
mail server never holds up a page or the analysis worker.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def message(name: str, *, to: str, context: dict, headers: dict | None = None) -> EmailMultiAlternatives:
    """The email `name` to `to`, in plain text and HTML, with `site_url` in its context."""
    context = {"site_url": settings.SITE_URL, **context}
    # Subjects are one line whatever the template's whitespace.
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    email = EmailMultiAlternatives(subject, text, to=[to], headers=headers or {})
    email.attach_alternative(html, "text/html")
    return email
