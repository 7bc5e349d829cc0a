from typing import Any

from django import forms

from lesions.models import MAP_VIEWS, PHOTO_TYPES, Lesion

# The forms parse; lesions.services checks the values (a date in the future...) and the views put
# its ValidationError next to the field it names.


class LesionForm(forms.ModelForm):
    # Set by static/lesions/bodymap.js when the patient taps the body map; empty without
    # JavaScript (the site list alone). Never prefilled, so a site changed without JavaScript
    # cannot disagree with an old tap: lesions.services places the dot.
    map_view = forms.ChoiceField(choices=[("", ""), *MAP_VIEWS], required=False, widget=forms.HiddenInput)
    map_x = forms.FloatField(required=False, widget=forms.HiddenInput)
    map_y = forms.FloatField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Lesion
        fields = ["name", "notes", "body_site"]  # the site last, just above the body map
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class PhotoUploadForm(forms.Form):
    # Plain FileField: our own decoder (lesions.imaging) checks the content and says what is wrong.
    image = forms.FileField(
        label="Photo",
        help_text="JPEG, PNG or HEIC. On a phone you can take the photo directly.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    taken_at = forms.DateTimeField(
        label="Taken on",
        required=False,
        widget=DateTimeLocalInput(),
        help_text="Leave empty to use the date stored in the photo, or now.",
    )
    photo_type = forms.ChoiceField(
        label="How it was taken",
        choices=[("", "I don't know (the model tells)"), *PHOTO_TYPES],
        required=False,
        help_text=(
            "Through a dermatoscope attachment or with a plain camera. The analysis is more accurate when it knows."
        ),
    )


class PhotoTypeForm(forms.Form):
    photo_type = forms.ChoiceField(label="How was this photo taken?", choices=PHOTO_TYPES, widget=forms.RadioSelect)


class PhotoDateForm(forms.Form):
    taken_at = forms.DateTimeField(label="Taken on", widget=DateTimeLocalInput())


class RecheckForm(forms.Form):
    # A number; lesions.reminders says which numbers are allowed.
    recheck_interval_months = forms.IntegerField(label="Remind me to photograph it again")
