"""The sharing forms parse what was typed; sharing.services checks it and says what is wrong.

The HTML attributes (type, min, max, maxlength) only help the browser: the rules are the service's.
"""

from django import forms

from sharing.services import (
    DEFAULT_EXPIRY_DAYS,
    EXPIRY_NOT_A_NUMBER,
    MAX_EXPIRY_DAYS,
    MESSAGE_MAX_LENGTH,
    MIN_EXPIRY_DAYS,
    NOTE_MAX_LENGTH,
    PATIENT_NAME_MAX_LENGTH,
)


class ShareForm(forms.Form):
    physician_email = forms.CharField(label="Physician's email address", widget=forms.EmailInput)
    patient_name = forms.CharField(
        label="Your name, as the physician will see it",
        required=False,  # the service asks for it when the account has no display name
        max_length=PATIENT_NAME_MAX_LENGTH,
        help_text="Shown on the report, the PDF and the email. Your email address is never shown.",
    )
    expires_in_days = forms.IntegerField(
        label="Link valid for (days)",
        initial=DEFAULT_EXPIRY_DAYS,
        error_messages={"invalid": EXPIRY_NOT_A_NUMBER},
        widget=forms.NumberInput(attrs={"min": MIN_EXPIRY_DAYS, "max": MAX_EXPIRY_DAYS}),
        help_text=f"From {MIN_EXPIRY_DAYS} to {MAX_EXPIRY_DAYS} days. You can revoke it at any time.",
    )
    message = forms.CharField(
        label="Message (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MESSAGE_MAX_LENGTH}),
    )
    notify_on_new_analysis = forms.BooleanField(
        label="Email the physician when I add a photo", required=False, help_text="Until the link expires."
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Your note for the patient",
        required=False,  # an empty note is refused by the service, with its message
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": "Looks benign, re-photograph in 3 months.",
                "maxlength": NOTE_MAX_LENGTH,
                "required": True,
            }
        ),
    )
