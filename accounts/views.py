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
from accounts.forms import DeleteAccountForm, LoginForm, ProfileForm, SignupForm
from accounts.models import SecurityEvent


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("lesions:dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_create(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data.get("display_name", ""),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to Skinsite. Add the first lesion you want to follow.")
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
