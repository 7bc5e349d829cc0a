from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.utils import timezone

from accounts import lockout, services, two_factor
from accounts.models import BIRTH_YEAR_MIN, COIN_OTHER, SEX_CHOICES, SecurityEvent, User, validate_birth_year
from measurement.scale import COINS


class LoginForm(AuthenticationForm):
    """Django's log-in form behind the brute-force limit (accounts.lockout)."""

    def clean(self) -> dict[str, Any]:
        email = (self.cleaned_data.get("username") or "").lower()
        if not email or self.request is None:
            return super().clean()
        wait = lockout.login_locked_for(request=self.request, email=email)
        if wait:
            raise forms.ValidationError(lockout.locked_message(wait), code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError as exc:
            if exc.code != "invalid_login":
                raise
            locked = lockout.login_failure_record(request=self.request, email=email)
            if locked:
                user = User.objects.filter(email=email).first()
                if user is not None:
                    services.security_event_record(user=user, kind=SecurityEvent.Kind.LOCKED_OUT, request=self.request)
                raise forms.ValidationError(lockout.locked_message(locked), code="locked") from None
            raise
        # With two-factor, the password is only the first step: the count (wrong codes too) is
        # cleared by a right code (views.login_code), else typing the password again between
        # guesses would give a thief who has it a fresh set of code guesses each time.
        if not two_factor.two_factor_enabled(self.get_user()):
            lockout.login_success_record(request=self.request, email=email)
        return cleaned

    @property
    def locked(self) -> bool:
        return any(e.code == "locked" for e in self.errors.as_data().get("__all__", []))


class SignupForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "display_name"]

    def clean_email(self) -> str:
        return self.cleaned_data["email"].lower()

    def validate_unique(self) -> None:
        """Not here: saying "this address has an account" would tell anyone who has one
        (services.user_sign_up answers the same either way and tells the owner by email)."""


class ProfileForm(forms.ModelForm):
    # The settings page shows these apart, under a word on why we ask.
    ANALYSIS_FIELDS = ("birth_year", "sex")

    class Meta:
        model = User
        fields = ["display_name", "email_on_analysis", "reminders_enabled", "birth_year", "sex"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        birth_year = self.fields["birth_year"]
        # One message for every year out of range: without this, 0 and below would get the
        # column's own "greater than or equal to 0" instead of "between 1900 and <this year>".
        birth_year.validators = [validate_birth_year]
        birth_year.widget.attrs.update(min=BIRTH_YEAR_MIN, max=timezone.localdate().year)
        sex = self.fields["sex"]
        assert isinstance(sex, forms.ChoiceField)  # the model field has choices
        sex.choices = [("", "Not given"), *SEX_CHOICES]
        for name, field in self.fields.items():
            if isinstance(field, forms.BooleanField) and field.help_text:
                # accounts/_field.html puts a checkbox's help below it, outside its label.
                field.widget.attrs["aria-describedby"] = f"id_{name}-help"

    @property
    def account_fields(self) -> list[forms.BoundField]:
        return [field for field in self.visible_fields() if field.name not in self.ANALYSIS_FIELDS]

    @property
    def analysis_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.ANALYSIS_FIELDS]


class CoinForm(forms.Form):
    """The coin the patient lays beside a lesion for its size in mm (accounts.services.user_coin_set)."""

    coin = forms.ChoiceField(
        label="Your coin",
        required=False,
        help_text="Its width in mm is shown beside its name.",
    )
    coin_other_mm = forms.FloatField(
        label="Width of your coin in mm",
        required=False,
        help_text="Only for “another coin”: from edge to edge, through the middle.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        coin = self.fields["coin"]
        assert isinstance(coin, forms.ChoiceField)
        coin.choices = [
            ("", "None chosen"),
            *((key, f"{label} ({mm:g} mm)") for key, (label, mm) in COINS.items()),
            (COIN_OTHER, "Another coin (give its width below)"),
        ]
        self.fields["coin_other_mm"].widget.attrs.update(step="0.01", inputmode="decimal")


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
        help_text="The 6 digits your authenticator app shows now, or one of your recovery codes.",
    )


class TwoFactorDisableForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(max_length=20, help_text="A code from your authenticator app, or a recovery code.")

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        if not self.user.check_password(self.cleaned_data["password"]):
            raise forms.ValidationError("That is not your password.")
        return self.cleaned_data["password"]


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Type your password to confirm. This deletes every lesion and photo and cannot be undone.",
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


__all__ = [
    "DeleteAccountForm",
    "LoginForm",
    "ProfileForm",
    "SignupForm",
    "TwoFactorCodeForm",
    "TwoFactorDisableForm",
    "password_validation",
]
