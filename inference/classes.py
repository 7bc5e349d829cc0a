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
