"""The seven HAM10000 classes the model reports: codes, labels, and which are malignant.

The one definition, used by the web process, the worker and `training/`. Plain Python with no
Django, numpy or TensorFlow import, so anything can import it cheaply.
"""

CLASS_LABELS: dict[str, str] = {
    "akiec": "Actinic keratosis / intraepithelial carcinoma",
    "bcc": "Basal cell carcinoma",
    "bkl": "Benign keratosis",
    "df": "Dermatofibroma",
    "mel": "Melanoma",
    "nv": "Melanocytic nevus (mole)",
    "vasc": "Vascular lesion",
}
CLASSES: tuple[str, ...] = tuple(CLASS_LABELS)
MALIGNANT_CLASSES: tuple[str, ...] = ("akiec", "bcc", "mel")

# The HAM10000 `localization` vocabulary, with the words a patient reads. The app stores these
# codes (lesions.models.Lesion.body_site), the body map draws them (lesions.change.bodymap) and
# the model encodes them (training.preprocessing.LOCALIZATIONS: every code but "unknown", which
# is encoded as no site), so a lesion's site means the same everywhere.
UNKNOWN_SITE = "unknown"
BODY_SITE_LABELS: dict[str, str] = {
    "abdomen": "Abdomen",
    "acral": "Acral (palms, soles, nails)",
    "back": "Back",
    "chest": "Chest",
    "ear": "Ear",
    "face": "Face",
    "foot": "Foot",
    "genital": "Genital",
    "hand": "Hand",
    "lower extremity": "Leg (lower extremity)",
    "neck": "Neck",
    "scalp": "Scalp",
    "trunk": "Trunk",
    "upper extremity": "Arm (upper extremity)",
    UNKNOWN_SITE: "Other / unknown",
}
