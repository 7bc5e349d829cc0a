"""The account's own emails: address confirmation, password reset and a sign-up with a taken address.

Links use SITE_URL.
"""

from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.confirmation import confirmation_token
from accounts.models import User
from skinsite.lib.urls import absolute_url


def email_confirmation(*, user: User) -> EmailMultiAlternatives:
    url = absolute_url(reverse("email-confirm", args=[confirmation_token(user=user)]))
    body = render_to_string("registration/email_confirmation_email.txt", {"user": user, "url": url})
    return EmailMultiAlternatives("Confirm your email address for Skinsite", body, to=[user.email])


def _password_reset_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return absolute_url(reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token}))


def password_reset(*, user: User) -> EmailMultiAlternatives:
    """Django's reset email, built in the worker (the token is made here, not passed around)."""
    url = _password_reset_url(user)
    context = {"email": user.email, "user": user, "url": url}
    subject = "".join(render_to_string("registration/password_reset_subject.txt", context).splitlines())
    body = render_to_string("registration/password_reset_email.html", context)
    return EmailMultiAlternatives(subject, body, to=[user.email])


def sign_up_attempt_notice(*, user: User) -> EmailMultiAlternatives:
    """Someone signed up with this account's address: the page said nothing of the account, this
    tells its owner, with a reset link for an owner who forgot they had one."""
    context = {"user": user, "url": _password_reset_url(user), "login_url": absolute_url(reverse("login"))}
    body = render_to_string("registration/sign_up_attempt_email.txt", context)
    return EmailMultiAlternatives("Someone tried to sign up to Skinsite with your address", body, to=[user.email])
