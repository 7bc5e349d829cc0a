from typing import Any

from django import forms
from django.urls import reverse

from lesions.models import MAP_VIEWS, PHOTO_TYPES, Dermatoscope, Lesion, Photo
from measurement.scale import COINS, ID1_CARD_MM

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


class PhotoSizeHintsForm(forms.Form):
    """What lets the worker measure the lesion in mm: a coin or card in the photo, or the dermatoscope it
    was taken through. Part of the upload forms (the lesion page's and, through the API, the phone's)."""

    reference_in_photo = forms.BooleanField(label="A coin or card is in the photo", required=False)
    coin = forms.ChoiceField(label="Which coin or card?", required=False)
    coin_diameter_mm = forms.FloatField(
        label="Width of another coin in mm", required=False, min_value=0.1, help_text="Only for “another coin”."
    )
    device = forms.ModelChoiceField(
        label="Taken through a dermatoscope?", queryset=Dermatoscope.objects.none(), required=False, empty_label="No"
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        label = user_coin_label(user)
        coin = self.fields["coin"]
        assert isinstance(coin, forms.ChoiceField)
        coin.choices = [
            *([] if label else [("", "Choose…")]),
            *coin_choices(label),
            (CARD, f"A bank card, no coin ({ID1_CARD_MM[0]:g} mm long)"),
            (COIN_OTHER, "Another coin (give its width below)"),
        ]
        self.fields["coin_diameter_mm"].widget.attrs.update(step="0.01", inputmode="decimal")
        device = self.fields["device"]
        assert isinstance(device, forms.ModelChoiceField)
        if user is not None:
            device.queryset = Dermatoscope.objects.filter(owner=user)

    @property
    def has_devices(self) -> bool:
        field = self.fields["device"]
        assert isinstance(field, forms.ModelChoiceField) and field.queryset is not None
        return field.queryset.exists()

    def hints(self) -> dict[str, Any]:
        """The keyword arguments of lesions.services.photo_create for these answers."""
        data = self.cleaned_data
        coin = data.get("coin") or None
        hints: dict[str, Any] = {"device": data.get("device")}
        if data.get("reference_in_photo") and coin != CARD:
            hints["coin"] = coin or COIN_MINE
            if coin == COIN_OTHER:
                hints["coin_diameter_mm"] = data.get("coin_diameter_mm")
        return hints


class PhotoTypeForm(forms.Form):
    photo_type = forms.ChoiceField(label="How was this photo taken?", choices=PHOTO_TYPES, widget=forms.RadioSelect)


class PhotoDateForm(forms.Form):
    taken_at = forms.DateTimeField(label="Taken on", widget=DateTimeLocalInput())


class RecheckForm(forms.Form):
    # A number; lesions.reminders says which numbers are allowed.
    recheck_interval_months = forms.IntegerField(label="Remind me to photograph it again")


# --- Size in mm (issue 22): the coin or card in a photo, a scale marked by hand, a dermatoscope set up ---

COIN_MINE = "mine"  # lesions.services.COIN_MINE: the coin chosen in the account's settings
COIN_OTHER = "other"  # accounts.models.COIN_OTHER: a coin not in the table, its width typed in mm
CARD = "card"


def user_coin_label(user: Any) -> str | None:
    """The plain name of the coin the patient chose in their settings, or None."""
    coin = getattr(user, "coin", "")
    if coin in COINS:
        return COINS[coin][0]
    if coin == COIN_OTHER and getattr(user, "coin_other_mm", None):
        return f"a coin {user.coin_other_mm:g} mm wide"
    return None


def coin_choices(user_coin_label: str | None = None) -> list[tuple[str, str]]:
    """The coins of measurement.scale.COINS by name, the patient's own first when chosen."""
    mine = [(COIN_MINE, f"My coin: {user_coin_label}")] if user_coin_label else []
    return [*mine, *((key, f"{label} ({mm:g} mm)") for key, (label, mm) in COINS.items())]


class PhotoScaleForm(forms.Form):
    """Two points marked on the photo and what lies between them.

    The points are percentages of the photo's width and height, so they can be typed (the page's
    script places them by touch, mouse or arrow keys and fills these in). `length` says what the two
    points span: a coin's width, a bank card's long edge, or a length typed in `distance_mm`.
    """

    x1 = forms.FloatField(label="Point 1: from the left (%)", min_value=0, max_value=100)
    y1 = forms.FloatField(label="Point 1: from the top (%)", min_value=0, max_value=100)
    x2 = forms.FloatField(label="Point 2: from the left (%)", min_value=0, max_value=100)
    y2 = forms.FloatField(label="Point 2: from the top (%)", min_value=0, max_value=100)
    length = forms.ChoiceField(label="What is between the two points?")
    distance_mm = forms.FloatField(
        label="Length in mm",
        required=False,
        min_value=0.1,
        help_text="Only for “another length”: for example 10 for two lines 1 cm apart on a ruler.",
    )

    def __init__(self, *args: Any, user_coin_label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        length = self.fields["length"]
        assert isinstance(length, forms.ChoiceField)
        coins = [(key, f"The width of a {label}") for key, label in coin_choices(user_coin_label)]
        if user_coin_label:
            coins[0] = (COIN_MINE, f"The width of my coin ({user_coin_label})")
        length.choices = [
            (COIN_OTHER, "Another length (type it below)"),
            (CARD, f"The long edge of a bank card ({ID1_CARD_MM[0]:g} mm)"),
            *coins,
        ]
        for name in ("x1", "y1", "x2", "y2"):
            self.fields[name].widget.attrs.update(step="0.1", inputmode="decimal")
        self.fields["distance_mm"].widget.attrs.update(step="0.01", inputmode="decimal")

    def points(self) -> list[list[float]]:
        data = self.cleaned_data
        return [[data["x1"] / 100, data["y1"] / 100], [data["x2"] / 100, data["y2"] / 100]]

    def distance(self, user_coin_mm: float | None) -> float | None:
        """The distance in mm between the points (None when "another length" was chosen but not typed)."""
        length = self.cleaned_data["length"]
        if length == CARD:
            return ID1_CARD_MM[0]
        if length == COIN_MINE:
            return user_coin_mm
        if length in COINS:
            return COINS[length][1]
        return self.cleaned_data.get("distance_mm")


class PhotoCoinForm(forms.Form):
    """The coin lying in the photo: Skinsite then looks for it (a scale marked by hand is dropped)."""

    coin = forms.ChoiceField(label="Which coin is in the photo?")

    def __init__(self, *args: Any, user_coin_label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        coin = self.fields["coin"]
        assert isinstance(coin, forms.ChoiceField)
        coin.choices = [("", "Choose a coin…"), *coin_choices(user_coin_label)]


class PhotoDeviceForm(forms.Form):
    """Which of the patient's dermatoscopes took the photo (empty: none)."""

    device = forms.ModelChoiceField(
        label="Taken through a dermatoscope?", queryset=Dermatoscope.objects.none(), required=False, empty_label="No"
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        device = self.fields["device"]
        assert isinstance(device, forms.ModelChoiceField)
        if user is not None:
            device.queryset = Dermatoscope.objects.filter(owner=user)


class PhotoChoiceField(forms.ModelChoiceField):
    """One of the patient's photos, named by its lesion and date."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.lesion.name}, {obj.taken_at:%-d %b %Y}"


class DermatoscopeForm(forms.Form):
    """A phone dermatoscope set up from one photo of a ruler through it (points: as PhotoScaleForm, optional)."""

    name = forms.CharField(
        label="Name of the dermatoscope", max_length=100, help_text="For example “DermLite on my phone”."
    )
    image = forms.FileField(
        label="A photo of a ruler through it",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
        help_text="A ruler with mm marks, sharp and across the view. It is not kept.",
    )
    stored_photo = PhotoChoiceField(
        label="Or one of your photos",
        queryset=Photo.objects.none(),
        required=False,
        empty_label="None: I chose a new photo above",
    )
    x1 = forms.FloatField(label="Point 1: from the left (%)", min_value=0, max_value=100, required=False)
    y1 = forms.FloatField(label="Point 1: from the top (%)", min_value=0, max_value=100, required=False)
    x2 = forms.FloatField(label="Point 2: from the left (%)", min_value=0, max_value=100, required=False)
    y2 = forms.FloatField(label="Point 2: from the top (%)", min_value=0, max_value=100, required=False)
    distance_mm = forms.FloatField(
        label="Distance between the points in mm",
        required=False,
        min_value=0.1,
        help_text="Optional. Mark two lines on the ruler (say 10 mm apart) if Skinsite cannot find the ruler itself.",
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.fields["stored_photo"]
        assert isinstance(stored, forms.ModelChoiceField)
        if user is not None:
            stored.queryset = Photo.objects.filter(lesion__owner=user).select_related("lesion").order_by("-taken_at")
        # The script shows the chosen photo to mark the ruler on (lesions/mark_points.js).
        stored.widget.attrs["data-mark-source"] = reverse("lesions:photo-image", args=[0])

    def photo(self) -> Any:
        """The ruler photo: one of the patient's stored photos, else the uploaded file (or None)."""
        return self.cleaned_data.get("stored_photo") or self.cleaned_data.get("image")

    def points(self) -> list[list[float]] | None:
        data = self.cleaned_data
        values = [data.get(name) for name in ("x1", "y1", "x2", "y2")]
        if any(v is None for v in values):
            return None
        x1, y1, x2, y2 = (float(v) / 100 for v in values)  # type: ignore[arg-type]
        return [[x1, y1], [x2, y2]]
