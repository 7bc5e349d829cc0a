"""Shorter sentences in the default education content, and a truer line on the photos the model learned from.

Each sentence of the default content (0002) that read above school-leaving level on its own is split into
plainer ones (skinsite/tests/test_plain_words.py now grades every sentence of the guide, not only each page).
The photo guide said the model learned only from dermoscopy images; since multisource-lite0 it also learned
from phone photos (PAD-UFES-20), and it does better on some kinds of photo than on others (reports/external.md).

Like 0002, this never overwrites an editor's work: a sentence is replaced only where the field still holds the
default wording; a field an editor has rewritten is left as it is.
"""

from django.db import migrations

# (model, code or slug, field, default sentence, plainer sentence)
REPLACEMENTS = [
    (
        "condition",
        "akiec",
        "summary",
        "Actinic keratoses can turn into skin cancer; intraepithelial carcinoma (Bowen's disease) is an early skin cancer in the skin's top layer.",
        "Actinic keratoses can turn into skin cancer. Bowen's disease is an early skin cancer in the top layer of the skin.",
    ),
    (
        "condition",
        "nv",
        "description",
        "These are usually harmless too, but people with many moles, or several atypical ones, have a higher chance of developing melanoma and benefit from regular skin checks.",
        "These are usually harmless too. But people with many moles, or several atypical ones, are more likely to get melanoma. Regular skin checks help them.",
    ),
    (
        "condition",
        "bkl",
        "description",
        '"Benign keratosis" brings together three kinds of harmless (non-cancerous) spots that can look alike:',
        '"Benign keratosis" brings together three kinds of harmless spots that can look alike. None of them is cancer.',
    ),
    (
        "condition",
        "bkl",
        "description",
        "Some benign keratoses, especially dark or irregular ones, can look like a melanoma, and even specialists sometimes need a dermatoscope (a magnifying lens with its own light) or a small sample of skin to tell them apart.",
        "Some of these spots, mostly dark or uneven ones, can look like a melanoma. Even skin doctors sometimes need a closer look to tell them apart. They may use a dermatoscope (a magnifying lens with its own light) or take a small sample of skin.",
    ),
    (
        "condition",
        "df",
        "advice",
        "Other growths, including melanoma and, rarely, a slow-growing tumour called dermatofibrosarcoma protuberans, can look similar, so a spot that keeps changing should be examined.",
        "Other growths can look similar, such as a melanoma or, rarely, a slow-growing tumour. So a doctor should look at a spot that keeps changing.",
    ),
    (
        "condition",
        "vasc",
        "advice",
        "A pyogenic granuloma is usually removed, because it bleeds easily and tends to keep growing, and it is normally sent to a laboratory to be examined.",
        "A pyogenic granuloma is usually removed, because it bleeds easily and tends to keep growing. It is then sent to a lab to be checked.",
    ),
    (
        "condition",
        "mel",
        "description",
        "The main risk factors are sunburn (especially in childhood), using sunbeds, fair skin that burns easily, having many moles or several atypical moles, and a personal or family history of melanoma.",
        "These things make melanoma more likely: sunburn (most of all as a child), sunbeds, fair skin that burns easily, and many moles or several atypical moles. So does having had melanoma before, or having it in the family.",
    ),
    (
        "condition",
        "mel",
        "advice",
        "If a mole or spot is new, changing, or shows any of the warning signs on this page, make an appointment with a doctor (a GP or dermatologist) soon: within a week or two, without waiting to see whether it goes away.",
        "Is a mole or spot new or changing, or does it show any of the warning signs on this page? Then see a doctor (a GP or skin doctor) within a week or two. Do not wait to see if it goes away.",
    ),
    (
        "condition",
        "bcc",
        "advice",
        "Treatment depends on the type, size and place: most BCCs are removed with a small operation, and some shallow ones can be treated with a cream, freezing or light-based treatment.",
        "Treatment depends on the type, size and place. Most are removed with a small operation. Some shallow ones can be treated with a cream, with freezing or with light.",
    ),
    (
        "condition",
        "akiec",
        "description",
        "Actinic keratoses appear on skin that has had a lot of sun: the face, ears, scalp (especially where hair is thin), the backs of the hands and forearms, and the lower legs.",
        "Actinic keratoses appear on skin that has had a lot of sun. This means the face, ears and scalp (mostly where hair is thin), the backs of the hands, the forearms and the lower legs.",
    ),
    (
        "condition",
        "akiec",
        "description",
        "**Intraepithelial carcinoma**, also called Bowen's disease or squamous cell carcinoma in situ, is an early form of skin cancer that stays within the outermost layer of the skin.",
        "**Intraepithelial carcinoma** is also called Bowen's disease. It is an early form of skin cancer that stays in the top layer of the skin.",
    ),
    (
        "condition",
        "akiec",
        "description",
        "They are most common in people over 50 with fair skin that burns easily, in people who have spent a lot of time outdoors or used sunbeds, and in people whose immune system is weakened, for example by medicines taken after an organ transplant.",
        "They are most common in people over 50 with fair skin that burns easily. People who spent a lot of time outdoors or used sunbeds get them more often. So do people with a weak immune system, for example from medicines taken after a transplant.",
    ),
    (
        "condition",
        "akiec",
        "advice",
        "Treatment is usually simple: freezing, a prescription cream or gel, light-based treatment or a small operation, depending on the type, size and place.",
        "Treatment is usually simple. It may be freezing, a cream or gel from the doctor, a light treatment or a small operation. This depends on the type, size and place.",
    ),
    (
        "guide",
        "photographing-a-mole",
        "body",
        "Photos taken the same way each time make real change easier to see, and give the model a fairer chance: blur, shadows and coloured light can change its estimates as much as a change in the skin.",
        "Take each photo the same way, so that real change is easier to see. Blur, shadows and coloured light can change the model's estimates as much as a change in the skin.",
    ),
    (
        "guide",
        "photographing-a-mole",
        "body",
        "The model learned from dermoscopy images, which are taken through a magnifying lens with its own light; ordinary photos look different, which is one more reason its estimates are only a guide.",
        "The model learned from photos taken through a dermatoscope (a magnifying lens with its own light) and from phone photos. It does better on some kinds of photo than on others. This is one more reason its estimates are only a guide.",
    ),
]
MODELS = {"condition": ("Condition", "code"), "guide": ("Guide", "slug")}


def _replace(apps, *, forward: bool) -> None:
    for kind, key, field, old, new in REPLACEMENTS:
        model_name, key_field = MODELS[kind]
        model = apps.get_model("education", model_name)
        before, after = (old, new) if forward else (new, old)
        for row in model.objects.filter(**{key_field: key, f"{field}__contains": before}):
            setattr(row, field, getattr(row, field).replace(before, after))
            row.save(update_fields=[field])


def forwards(apps, schema_editor) -> None:
    _replace(apps, forward=True)


def backwards(apps, schema_editor) -> None:
    _replace(apps, forward=False)


class Migration(migrations.Migration):
    dependencies = [("education", "0003_content_editor_group")]

    operations = [migrations.RunPython(forwards, backwards)]
