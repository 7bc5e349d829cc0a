"""Sign up, profile and account deletion; log in, log out and passwords use Django's views."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services, tokens
from accounts.confirmation import user_for_confirmation_token
from accounts.forms import DeleteAccountForm, LoginForm, ProfileForm, SignupForm
from accounts.models import SecurityEvent
from skinsite.ratelimit import client_address, hashed, rate_exceeded


def _too_many(request: HttpRequest, template: str, form, what: str) -> HttpResponse:
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
        user = services.user_create(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data.get("display_name", ""),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            f"Welcome to Skinsite. We sent a link to {user.email}: open it to confirm your address. "
            "Meanwhile, add the first lesion you want to follow.",
        )
        return redirect("lesions:dashboard")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved.")
        return redirect("account-settings")
    devices = tokens.tokens_for_user(user=request.user).order_by("-created_at")
    context = {
        "form": form,
        "devices": devices,
        "security_events": selectors.security_events_for_user(user=request.user, limit=30),
    }
    return render(request, "accounts/settings.html", context)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Cut off one device (a lost phone) from the account page."""
    token = tokens.token_get(user=request.user, token_id=token_id)
    tokens.token_revoke(token=token)
    services.security_event_record(
        user=request.user, kind=SecurityEvent.Kind.DEVICE_REVOKED, request=request, detail=token.name
    )
    messages.success(request, f"“{token.name}” is logged out and can no longer use your account.")
    return redirect("account-settings")


class LoginView(auth_views.LoginView):
    """Django's view with the brute-force limit; a locked log-in answers 429."""

    form_class = LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.locked:
            response.status_code = 429
            response["Retry-After"] = str(settings.LOGIN_LOCKOUT_SECONDS)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's page, rate-limited per client address and per address asked for; the email goes
    out from the worker (accounts.tasks), so the page answers at once whatever the mail server does."""

    def form_valid(self, form):
        email = form.cleaned_data["email"].lower()
        rate = settings.PASSWORD_RESET_THROTTLE
        # Both counted every time: one client cannot flood an inbox, nor probe many addresses.
        by_address = rate_exceeded(f"reset:addr:{client_address(self.request)}", rate)
        by_email = rate_exceeded(f"reset:email:{hashed(email)}", rate)
        if by_address or by_email:
            return _too_many(self.request, self.template_name, form, "password reset requests")
        services.password_reset_request(email=email)
        return redirect(self.success_url)


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
def email_confirmation_resend(request: HttpRequest) -> HttpResponse:
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

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_password_changed(user=form.user, request=self.request)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view, plus: a reset (maybe after a theft) logs every device out."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_password_changed(user=form.user, request=self.request, reset=True)
        return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.user_delete(user=user)
        messages.success(request, "Your account, lesions and photos were deleted.")
        return redirect("home")
    return render(request, "accounts/delete.html", {"form": form})
