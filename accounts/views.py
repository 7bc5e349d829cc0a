"""Sign up, profile and account deletion; log in, log out and passwords use Django's views."""

import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.models import Device

from accounts import lockout, selectors, services, tokens, two_factor
from accounts.confirmation import user_for_confirmation_token
from accounts.forms import (
    CoinForm,
    DeleteAccountForm,
    LoginForm,
    ProfileForm,
    SignupForm,
    TwoFactorCodeForm,
    TwoFactorDisableForm,
)
from accounts.http import AuthenticatedHttpRequest
from accounts.models import SecurityEvent, User
from inference.services import installed_model_card
from skinsite.ratelimit import client_address, hashed, rate_exceeded
from training.contract import metadata_used


def _too_many(request: HttpRequest, template: str, form: BaseForm, what: str) -> HttpResponse:
    form.add_error(None, f"Too many {what} from your network. Please try again in an hour.")
    return render(request, template, {"form": form}, status=429)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("lesions:dashboard")
    form = SignupForm(request.POST or None)
    # The API's sign-up rate, per client address (API_THROTTLE_REGISTER).
    if request.method == "POST" and rate_exceeded(
        f"signup:{client_address(request)}", settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["register"]
    ):
        return _too_many(request, "registration/signup.html", form, "sign-ups")
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            services.user_sign_up(
                email=email,
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data.get("display_name", ""),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # The same answer whether the address had an account or not (its owner is emailed),
            # so nobody is logged in here: the log-in page is next either way.
            messages.success(
                request,
                f"Thank you. We sent an email to {email}: open it to confirm your address. "
                "Then log in with your address and password, and add the first lesion you want to follow.",
            )
            return redirect("login")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    user = request.user
    coin_form = CoinForm(request.POST or None, initial={"coin": user.coin, "coin_other_mm": user.coin_other_mm})
    if request.method == "POST" and form.is_valid() & coin_form.is_valid():  # both, so each shows its errors
        try:
            services.user_coin_set(
                user=user, coin=coin_form.cleaned_data["coin"], coin_other_mm=coin_form.cleaned_data["coin_other_mm"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                coin_form.add_error(field if field in coin_form.fields else None, errors)
        else:
            form.save()
            messages.success(request, "Saved.")
            return redirect("account-settings")
    devices = tokens.tokens_for_user(user=request.user).order_by("-created_at")
    context = {
        "form": form,
        "coin_form": coin_form,
        "devices": devices,
        "two_factor_enabled": two_factor.two_factor_enabled(request.user),
        "security_events": selectors.security_events_for_user(user=request.user, limit=30),
        # Said as it is for the installed model: a card may accept age and sex and use neither.
        "model_uses_metadata": (card := installed_model_card()) is not None and metadata_used(card),
    }
    return render(request, "accounts/settings.html", context)


@login_required
@require_POST
def account_coin(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The coin alone, laid beside a lesion for its size in mm (the settings page saves it with the profile)."""
    form = CoinForm(request.POST)
    if form.is_valid():
        try:
            services.user_coin_set(
                user=request.user, coin=form.cleaned_data["coin"], coin_other_mm=form.cleaned_data["coin_other_mm"]
            )
        except ValidationError as exc:
            for messages_of_field in exc.message_dict.values():
                for message in messages_of_field:
                    messages.error(request, message)
        else:
            messages.success(request, "Saved.")
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect("account-settings")


@login_required
@require_POST
def token_revoke(request: AuthenticatedHttpRequest, token_id: int) -> HttpResponse:
    """Cut off one device (a lost phone) from the account page."""
    token = tokens.token_get(user=request.user, token_id=token_id)
    tokens.token_revoke(token=token)
    services.security_event_record(
        user=request.user, kind=SecurityEvent.Kind.DEVICE_REVOKED, request=request, detail=token.name
    )
    messages.success(request, f"“{token.name}” is logged out and can no longer use your account.")
    return redirect("account-settings")


class LoginView(auth_views.LoginView):
    """Django's view with the brute-force limit (a locked log-in answers 429), then the
    two-factor step for accounts that have it; staff without it are sent to set it up."""

    form_class = LoginForm

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if two_factor.two_factor_enabled(user):
            # Not logged in yet: the password only earns the right to be asked for a code.
            self.request.session[_PENDING] = {
                "user": user.pk,
                "backend": user.backend,
                "at": time.time(),
                "next": self.get_success_url(),
            }
            return redirect("login-code")
        response = super().form_valid(form)
        if user.is_staff:
            messages.warning(request=self.request, message=_STAFF_NEEDS_2FA)
            return _two_factor_redirect(self.get_redirect_url())
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if isinstance(form, LoginForm) and form.locked:  # form_class
            response.status_code = 429
            response["Retry-After"] = str(settings.LOGIN_LOCKOUT_SECONDS)
        return response


_PENDING = "accounts.login-pending-2fa"
_PENDING_SECONDS = 300
_STAFF_NEEDS_2FA = "Staff accounts need two-factor authentication: set it up here before using the admin."


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """Second step of log-in: a code from the authenticator app, or a recovery code."""
    pending: dict[str, Any] = request.session.get(_PENDING) or {}
    user_id = pending.get("user")
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id is not None else None
    if user is None or time.time() - pending["at"] > _PENDING_SECONDS:
        request.session.pop(_PENDING, None)
        messages.error(request, "Please log in again.")
        return redirect("login")
    form = TwoFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        wait = lockout.login_locked_for(request=request, email=user.email)
        code = form.cleaned_data["code"]
        device = None if wait else two_factor.two_factor_verify(user=user, code=code, request=request)
        if device is not None:
            lockout.login_success_record(request=request, email=user.email)
            del request.session[_PENDING]
            user.backend = pending["backend"]
            user.otp_device = device  # django-otp marks the new session verified
            login(request, user)
            next_url = pending["next"]
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
            return redirect(next_url)
        if not wait:
            services.security_event_record(
                user=user, kind=SecurityEvent.Kind.LOGIN_FAILED, request=request, detail="wrong two-factor code"
            )
            wait = lockout.login_failure_record(request=request, email=user.email)
        if wait:
            request.session.pop(_PENDING, None)
            form.add_error(None, lockout.locked_message(wait))
            status = 429
        else:
            form.add_error("code", "That code is not right. Use the newest code, or one of your recovery codes.")
    return render(request, "registration/login_code.html", {"form": form}, status=status)


def _two_factor_redirect(next_url: str) -> HttpResponse:
    """To the two-factor page, keeping where the person was going (the admin sends staff here)."""
    response = redirect("two-factor")
    if next_url:
        response["Location"] += "?" + urlencode({"next": next_url})
    return response


def _safe_next(request: HttpRequest) -> str:
    """The page to return to after the two-factor page, from `next`; "" if none or off-site."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return next_url if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}) else ""


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up, verify, renew recovery codes for, or turn off two-factor authentication."""
    user = request.user
    action = request.POST.get("action", "")
    next_url = _safe_next(request)
    context: dict = {"staff": user.is_staff, "next": next_url}
    if not two_factor.two_factor_enabled(user):
        device = two_factor.totp_device_pending(user=user)
        form = TwoFactorCodeForm(request.POST if action == "enable" else None)
        if form.is_valid():
            try:
                codes = two_factor.two_factor_enable(
                    user=user, device=device, code=form.cleaned_data["code"], request=request
                )
            except ValueError as exc:
                form.add_error("code", str(exc))
            else:
                otp_login(request, device)  # this session proved it has the app
                messages.success(request, "Two-factor authentication is on.")
                return render(request, "accounts/two_factor.html", context | {"enabled": True, "new_codes": codes})
        context |= {
            "form": form,
            "secret": two_factor.totp_secret(device),
            "qr": two_factor.totp_qr_data_uri(device),
        }
        return render(request, "accounts/two_factor.html", context)

    form = TwoFactorCodeForm(request.POST if action in {"verify", "codes"} else None)
    disable_form = TwoFactorDisableForm(user, request.POST if action == "disable" else None)
    status = 200
    if action in {"verify", "codes"} and form.is_valid():
        device, wait = _code_checked(request, user, form.cleaned_data["code"])
        if wait:
            form.add_error(None, lockout.locked_message(wait))
            status = 429
        elif device is None:
            form.add_error("code", "That code is not right.")
        elif action == "verify":
            otp_login(request, device)
            messages.success(request, "This session is verified.")
            return redirect(next_url) if next_url else redirect("two-factor")
        else:
            codes = two_factor.recovery_codes_create(user=user)
            context |= {"new_codes": codes}
    if action == "disable" and disable_form.is_valid():
        device, wait = (None, 0) if user.is_staff else _code_checked(request, user, disable_form.cleaned_data["code"])
        if user.is_staff:
            disable_form.add_error(None, "Staff accounts must keep two-factor authentication.")
        elif wait:
            disable_form.add_error(None, lockout.locked_message(wait))
            status = 429
        elif device is None:
            disable_form.add_error("code", "That code is not right.")
        else:
            two_factor.two_factor_disable(user=user, request=request)
            messages.success(request, "Two-factor authentication is off.")
            return redirect("account-settings")
    context |= {
        "enabled": True,
        "verified": user.is_verified(),
        "form": form,
        "disable_form": disable_form,
        "codes_left": two_factor.recovery_codes_left(user=user),
    }
    return render(request, "accounts/two_factor.html", context, status=status)


def _code_checked(request: HttpRequest, user: User, code: str) -> tuple[Device | None, int]:
    """A code typed on the two-factor page, under the log-in lock-out (django-otp's own backoff is
    off, see settings): (the device that takes it, 0), (None, 0) if wrong, (None, seconds) if locked."""
    wait = lockout.login_locked_for(request=request, email=user.email)
    if wait:
        return None, wait
    device = two_factor.two_factor_verify(user=user, code=code, request=request)
    if device is not None:
        lockout.login_success_record(request=request, email=user.email)
        return device, 0
    return None, lockout.login_failure_record(request=request, email=user.email)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's page, rate-limited per client address and per address asked for; the email goes
    out from the worker (accounts.tasks), so the page answers at once whatever the mail server does."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"].lower()
        rate = settings.PASSWORD_RESET_THROTTLE
        # Both counted every time: one client cannot flood an inbox, nor probe many addresses.
        by_address = rate_exceeded(f"reset:addr:{client_address(self.request)}", rate)
        by_email = rate_exceeded(f"reset:email:{hashed(email)}", rate)
        if by_address or by_email:
            return _too_many(self.request, self.get_template_names()[0], form, "password reset requests")
        services.password_reset_request(email=email)
        return redirect(self.get_success_url())


@require_http_methods(["GET", "POST"])
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: a mail scanner following the link confirms nothing."""
    user = user_for_confirmation_token(token)
    if request.method == "POST" and user is not None:
        services.email_confirm(user=user, request=request)
        messages.success(request, "Thank you: your email address is confirmed.")
        return redirect("account-settings" if request.user.is_authenticated else "login")
    return render(request, "registration/email_confirm.html", {"confirm_user": user}, status=200 if user else 400)


@login_required
@require_POST
def email_confirmation_resend(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.user.email_confirmed:
        return redirect("account-settings")
    if rate_exceeded(f"confirm-resend:{request.user.pk}", settings.PASSWORD_RESET_THROTTLE):
        messages.error(request, "We sent several links already; please check your inbox and spam folder.")
    else:
        services.email_confirmation_request(user=request.user)
        messages.success(request, f"We sent a new confirmation link to {request.user.email}.")
    return redirect("account-settings")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view, plus: every device token stops working with the old password."""

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        services.user_password_changed(user=form.user, request=self.request)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view, plus: a reset (maybe after a theft) logs every device out."""

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        services.user_password_changed(user=form.user, request=self.request, reset=True)
        return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.user_delete(user=user)
        messages.success(request, "Your account, lesions and photos were deleted.")
        return redirect("home")
    return render(request, "accounts/delete.html", {"form": form})
