from django import forms

from sharing.services import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS, MESSAGE_MAX_LENGTH, MIN_EXPIRY_DAYS, NOTE_MAX_LENGTH


class ShareForm(forms.Form):
    physician_email = forms.EmailField(
        label="Physician's email address",
        error_messages={"invalid": "Enter the physician's email address, like name@clinic.example."},
    )
    expires_in_days = forms.IntegerField(
        label="Link valid for (days)",
        initial=DEFAULT_EXPIRY_DAYS,
        min_value=MIN_EXPIRY_DAYS,
        max_value=MAX_EXPIRY_DAYS,
        error_messages={
            "min_value": f"A link can last from {MIN_EXPIRY_DAYS} to {MAX_EXPIRY_DAYS} days.",
            "max_value": f"A link can last from {MIN_EXPIRY_DAYS} to {MAX_EXPIRY_DAYS} days.",
            "invalid": "Enter a whole number of days.",
        },
        help_text=f"From {MIN_EXPIRY_DAYS} to {MAX_EXPIRY_DAYS} days. You can revoke it at any time.",
    )
    message = forms.CharField(
        label="Message (optional)",
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    notify_on_new_analysis = forms.BooleanField(
        label="Email the physician when I add a photo", required=False, help_text="Until the link expires."
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Your note for the patient",
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Looks benign, re-photograph in 3 months."}),
    )
