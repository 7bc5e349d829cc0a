"""The default education content: the seven conditions, their example images and links, and two guides.

Written for patients in plain English, and careful never to promise a diagnosis. Editors change it in
Django admin afterwards; this migration only fills an empty database, so it never overwrites their work.

The example images are HAM10000 dermoscopy images (each confirmed by histopathology), committed unchanged
under education/content/images/ and copied into the default storage here, where the public view
/learn/images/<id>/ serves them from. The text is frozen in this file on purpose: later content changes
belong in the admin or in a new migration, never in an edit to this one.
"""

from pathlib import Path

from django.db import migrations

IMAGES_DIR = Path(__file__).resolve().parent.parent / "content" / "images"
STORAGE_PREFIX = "education/examples/"
HAM10000 = "HAM10000, Tschandl et al. 2018, doi:10.1038/sdata.2018.161, CC BY-NC-SA 4.0"

AAD = "American Academy of Dermatology"
SCF = "Skin Cancer Foundation"
NHS = "NHS"
DERMNET = "DermNet"
AOCD = "American Osteopathic College of Dermatology"


def _image(isic_id: str, caption: str) -> dict:
    return {"file": f"{isic_id}.jpg", "caption": caption, "attribution": f"{HAM10000}, image {isic_id}"}


CONDITIONS = [
    # ---------------------------------------------------------------------------------------------
    {
        "code": "nv",
        "name": "Melanocytic nevus (mole)",
        "malignant": False,
        "order": 10,
        "summary": (
            "An ordinary mole: a harmless cluster of the skin's pigment cells. Most adults have between 10 and "
            "40 of them."
        ),
        "description": """\
A melanocytic nevus (also spelled naevus), usually just called a mole, is a harmless cluster of melanocytes, the cells that give skin its colour. Most moles appear in childhood and early adulthood. New moles become less common after about the age of 40, and some slowly fade later in life.

A typical mole:
- is round or oval, with a smooth, even edge
- has one even colour, usually tan, brown or dark brown, or is skin-coloured
- is flat or raised, and usually smaller than about 6 millimetres across
- looks much like the person's other moles
- stays the same over months and years

Moles can darken or become more noticeable after time in the sun, in the teenage years and during pregnancy. Some people have larger moles with an irregular edge or mixed colours, called atypical (or dysplastic) moles. These are usually harmless too, but people with many moles, or several atypical ones, have a higher chance of developing melanoma and benefit from regular skin checks.

About two thirds of the images the model learned from are moles, so it has seen far more of these than of any other type.""",
        "advice": """\
An ordinary mole does not need treatment. Moles can be removed for cosmetic reasons, or because they keep catching on clothing or jewellery.

## See a doctor if a mole
- is new and you are over about 40, or a new spot looks different from your other moles
- changes in size, shape or colour, or its edge becomes ragged or blurred
- has several colours, or stands out from your other moles
- becomes raised, lumpy or firm when it used to be flat
- itches, bleeds, crusts or becomes inflamed without an obvious reason

These can be early signs of melanoma (see the ABCDE guide). Most changing moles turn out to be harmless, but only an examination can tell.

Follow your moles with photos taken the same way every few months. Slow, even growth of moles in children is normal; change in an adult's mole is worth showing to a doctor.""",
        "images": [
            _image("ISIC_0025631", "Dermoscopy image of a mole on the foot: one shade of brown, regular outline."),
            _image("ISIC_0032340", "Dermoscopy image of a small mole on the leg."),
            _image("ISIC_0031713", "Dermoscopy image of a mole on the back."),
        ],
        "resources": [
            ("Moles: overview", "https://www.aad.org/public/diseases/a-z/moles-overview", AAD),
            ("Moles", "https://www.nhs.uk/conditions/moles/", NHS),
            ("Melanocytic naevus", "https://dermnetnz.org/topics/melanocytic-naevus", DERMNET),
        ],
    },
    # ---------------------------------------------------------------------------------------------
    {
        "code": "bkl",
        "name": "Benign keratosis",
        "malignant": False,
        "order": 20,
        "summary": (
            "Common, harmless growths of the skin's surface, such as seborrhoeic keratoses and sun spots. "
            "Some dark ones can look like melanoma."
        ),
        "description": """\
"Benign keratosis" brings together three kinds of harmless (non-cancerous) spots that can look alike:

- **Seborrhoeic keratosis**: a raised, waxy or warty growth that looks "stuck on" to the skin. It can be light tan, brown or almost black, and from a few millimetres to a few centimetres across. They are very common after the age of 40, and many people have several.
- **Solar lentigo** (sun spot, age spot or liver spot): a flat, evenly brown patch on skin that has had a lot of sun, such as the face, the shoulders and the backs of the hands.
- **Lichen planus-like keratosis**: a single pink, red or grey-brown patch, often on the chest or arms. It is thought to be a sun spot or seborrhoeic keratosis that the body's immune system is clearing away.

None of these turn into cancer. They may itch, catch on clothing or become irritated, and can be removed if they bother you.

Some benign keratoses, especially dark or irregular ones, can look like a melanoma, and even specialists sometimes need a dermatoscope (a magnifying lens with its own light) or a small sample of skin to tell them apart.""",
        "advice": """\
A benign keratosis does not need treatment. Ask a doctor to look at it if you are not sure what it is, if it becomes sore or bleeds after catching on something, or if you would like it removed.

## See a doctor if the spot
- is new and looks different from your other spots
- changes in size, shape or colour, or has several colours
- bleeds without being scratched or injured, or does not heal

These changes can also be signs of melanoma or another skin cancer, which only an examination can rule out. Do not try to scratch, cut or burn a growth off yourself.""",
        "images": [
            _image("ISIC_0033770", "Dermoscopy image of a raised, waxy benign keratosis on the neck."),
            _image("ISIC_0033041", "Dermoscopy image of a small brown benign keratosis on the leg."),
            _image("ISIC_0031459", "Dermoscopy image of a flat, light brown benign keratosis on the neck."),
        ],
        "resources": [
            (
                "Seborrheic keratoses: overview",
                "https://www.aad.org/public/diseases/a-z/seborrheic-keratoses-overview",
                AAD,
            ),
            ("Seborrhoeic keratosis", "https://www.nhs.uk/conditions/seborrhoeic-keratosis/", NHS),
            ("Seborrhoeic keratosis", "https://dermnetnz.org/topics/seborrhoeic-keratosis", DERMNET),
        ],
    },
    # ---------------------------------------------------------------------------------------------
    {
        "code": "df",
        "name": "Dermatofibroma",
        "malignant": False,
        "order": 30,
        "summary": (
            "A common, harmless, firm bump in the skin, most often on the legs. It sometimes follows a small "
            "injury such as an insect bite."
        ),
        "description": """\
A dermatofibroma is a small, firm lump of fibrous tissue in the skin. It is harmless (benign) and common, especially in young and middle-aged adults, and more often in women than in men.

It usually:
- is a few millimetres to about a centimetre across
- is pink, red, light brown or dark brown, sometimes paler in the middle with a darker ring around it
- feels firm, like a small button or lentil in the skin
- dimples inwards when you gently pinch the skin on both sides of it (the "dimple sign")

Dermatofibromas are most often found on the lower legs, but can appear on the arms or the body. Some follow a minor injury such as an insect bite, a splinter or a shaving cut; often there is no obvious cause. They grow slowly, if at all, and usually stay for years. Most cause no symptoms, although some itch or are tender when knocked.""",
        "advice": """\
A typical dermatofibroma does not need treatment. It can be cut out if it bothers you, but this leaves a scar that may be more noticeable than the bump itself, and one that is only shaved flat often grows back.

## See a doctor if the spot
- keeps growing, or becomes larger than about 1 to 2 centimetres
- changes colour or shape, or looks different from your other spots
- bleeds, breaks down into a sore or becomes painful
- you are not sure it is a dermatofibroma

Other growths, including melanoma and, rarely, a slow-growing tumour called dermatofibrosarcoma protuberans, can look similar, so a spot that keeps changing should be examined.""",
        "images": [
            _image(
                "ISIC_0030021",
                "Dermoscopy image of a dermatofibroma on the arm: a brown ring around a paler centre.",
            ),
            _image("ISIC_0032468", "Dermoscopy image of a pink dermatofibroma on the leg."),
            _image("ISIC_0025668", "Dermoscopy image of a dermatofibroma on the arm, with a pale centre."),
        ],
        "resources": [
            ("Dermatofibroma", "https://dermnetnz.org/topics/dermatofibroma", DERMNET),
            ("Dermatofibroma", "https://www.aocd.org/page/Dermatofibroma", AOCD),
        ],
    },
    # ---------------------------------------------------------------------------------------------
    {
        "code": "vasc",
        "name": "Vascular lesion",
        "malignant": False,
        "order": 40,
        "summary": (
            "Harmless spots made of small blood vessels, such as cherry angiomas, angiokeratomas and pyogenic "
            "granulomas. Usually red, purple or dark blue."
        ),
        "description": """\
Vascular lesions are growths or marks made of blood vessels rather than pigment cells. The ones the model knows include:

- **Cherry angiomas** (Campbell de Morgan spots): small, bright red, smooth, dome-shaped spots, most often on the body. They are very common from middle age onwards and increase in number with age.
- **Angiokeratomas**: small dark red, purple or almost black spots, sometimes with a slightly rough surface, often on the legs or the body.
- **Pyogenic granulomas**: fast-growing, moist, bright red lumps that bleed easily. They often appear after a minor injury, on the fingers, lips or face, and sometimes in pregnancy. Despite the name, they are not caused by an infection.
- Small areas of **bleeding in the skin**, for example after a knock.

These are not cancer. Because some are dark, and because a dark spot can also be a melanoma, they are sometimes mistaken for one.""",
        "advice": """\
Most vascular lesions need no treatment. A cherry angioma can be removed for cosmetic reasons, for example with a laser or a heated wire. A pyogenic granuloma is usually removed, because it bleeds easily and tends to keep growing, and it is normally sent to a laboratory to be examined.

If a spot bleeds, press on it firmly with a clean cloth or tissue for 10 to 15 minutes.

## See a doctor if the spot
- grows quickly, or keeps bleeding
- is dark blue, purple or black and you are not sure what it is
- is new and looks different from your other spots, or changes over weeks or months

A dark spot that is not clearly a blood spot should be checked, because melanoma can look similar. A dark mark under a nail should move towards the tip as the nail grows if it is old blood; if it does not, or if it is a streak along the nail, see a doctor.""",
        "images": [
            _image("ISIC_0031759", "Dermoscopy image of a small red vascular lesion on the back."),
            _image("ISIC_0028714", "Dermoscopy image of a tiny purple vascular spot on the neck."),
            _image("ISIC_0032076", "Dermoscopy image of a purple vascular lesion on the leg."),
        ],
        "resources": [
            ("Cherry angioma", "https://dermnetnz.org/topics/cherry-angioma", DERMNET),
            ("Pyogenic granuloma", "https://dermnetnz.org/topics/pyogenic-granuloma", DERMNET),
        ],
    },
    # ---------------------------------------------------------------------------------------------
    {
        "code": "mel",
        "name": "Melanoma",
        "malignant": True,
        "order": 50,
        "summary": (
            "A serious skin cancer of the pigment cells. It can spread to other parts of the body, but is "
            "usually curable when it is found and removed early."
        ),
        "description": """\
Melanoma develops from melanocytes, the cells that give skin its colour. It is less common than other skin cancers but more dangerous, because it can spread to the lymph nodes and other organs if it is not removed early.

Some melanomas start in an existing mole, but most appear as a new spot on skin that looked normal. They can grow anywhere, including places that get little sun: the soles of the feet, the palms, under the nails and on the genitals. In men they are found most often on the back, in women on the legs, but anyone can get one anywhere.

A melanoma often:
- is a new spot, or an existing mole that changes in size, shape or colour
- has an uneven shape or a ragged, notched or blurred edge
- has more than one colour: shades of brown and black, sometimes with areas of red, pink, white, grey or blue
- looks different from the person's other moles (the "ugly duckling" sign)

Some melanomas do not follow these rules: they can be raised and firm and grow quickly, or be pink, red or skin-coloured with little or no pigment. Itching, crusting or bleeding can be later signs.

The main risk factors are sunburn (especially in childhood), using sunbeds, fair skin that burns easily, having many moles or several atypical moles, and a personal or family history of melanoma.""",
        "advice": """\
If a mole or spot is new, changing, or shows any of the warning signs on this page, make an appointment with a doctor (a GP or dermatologist) soon: within a week or two, without waiting to see whether it goes away. If a spot is growing quickly, bleeding or forming a lump, ask to be seen urgently.

The doctor will examine the spot, usually with a dermatoscope (a magnifying lens with its own light). If there is any doubt, they will remove it and send it to a laboratory (a biopsy), which is the only way to know for certain. A melanoma found early, while it is thin, is usually cured by a small operation.

## Meanwhile
- Photograph the spot now, with a ruler or coin beside it for scale, so any change can be compared.
- Check all of your skin every month or so, including your scalp, the soles of your feet, between your toes and under your nails; ask someone to check your back.
- Protect your skin from the sun, and avoid sunbeds.

If Skinsite shows a high estimate for melanoma, see a doctor even if the spot looks harmless to you. A low estimate does not rule melanoma out: if a spot worries you, have it checked.""",
        "images": [
            _image("ISIC_0026909", "Dermoscopy image of a melanoma on the leg: uneven colours within the spot."),
            _image("ISIC_0032976", "Dermoscopy image of a dark melanoma on the face with an irregular border."),
            _image(
                "ISIC_0032872",
                "Dermoscopy image of a melanoma on the back, with several colours including blue-grey and red.",
            ),
        ],
        "resources": [
            ("Melanoma", "https://www.aad.org/public/diseases/skin-cancer/types/common/melanoma", AAD),
            ("Melanoma skin cancer", "https://www.nhs.uk/conditions/melanoma-skin-cancer/", NHS),
            ("Melanoma", "https://www.skincancer.org/skin-cancer-information/melanoma/", SCF),
            ("Melanoma", "https://dermnetnz.org/topics/melanoma", DERMNET),
        ],
    },
    # ---------------------------------------------------------------------------------------------
    {
        "code": "bcc",
        "name": "Basal cell carcinoma",
        "malignant": True,
        "order": 60,
        "summary": (
            "The most common skin cancer. It grows slowly and very rarely spreads to other parts of the body, "
            "but it should be treated because it can damage the skin and tissue around it."
        ),
        "description": """\
Basal cell carcinoma (BCC) starts in the basal cells at the bottom of the skin's outer layer. It is the most common type of skin cancer, and is caused mainly by years of sun exposure or by sunburn.

BCCs usually appear on skin that gets a lot of sun, such as the face, ears, neck, scalp, shoulders and back, but they can grow anywhere. A BCC may look like:
- a shiny, pearly or see-through bump, sometimes with tiny blood vessels visible on its surface
- a flat, pink or red, slightly scaly patch that slowly gets bigger
- a sore that bleeds or crusts, seems to heal and then comes back
- a pale, waxy, scar-like area with an unclear edge

Some BCCs contain brown, blue or black pigment, which can make them look like a mole or a melanoma; pigmented BCCs are more common in people with darker skin.

BCCs grow slowly and almost never spread to other organs. Left untreated for a long time, though, they can grow deeper and damage the skin, cartilage or bone around them, which is why they are treated.""",
        "advice": """\
See a doctor (a GP or dermatologist) about any spot or sore that bleeds, crusts, does not heal within about four weeks, or keeps coming back. A BCC is not an emergency, but make an appointment rather than waiting for months.

The doctor will usually examine the spot with a dermatoscope and may take a small sample of skin (a biopsy) to be sure. Treatment depends on the type, size and place: most BCCs are removed with a small operation, and some shallow ones can be treated with a cream, freezing or light-based treatment. Treatment is usually very successful.

Once you have had a BCC you are more likely to get another, so:
- check your skin regularly, and keep following any new or changing spot
- protect your skin from the sun, and avoid sunbeds
- go to any follow-up appointments your doctor suggests""",
        "images": [
            _image("ISIC_0033248", "Dermoscopy image of a pigmented basal cell carcinoma on the neck."),
            _image(
                "ISIC_0026574",
                "Dermoscopy image of a basal cell carcinoma on the leg, with crusting and a dark area.",
            ),
            _image("ISIC_0027057", "Dermoscopy image of a pink basal cell carcinoma on the arm, with crusts."),
        ],
        "resources": [
            ("Basal cell carcinoma", "https://www.aad.org/public/diseases/skin-cancer/types/common/bcc", AAD),
            (
                "Basal cell carcinoma",
                "https://www.skincancer.org/skin-cancer-information/basal-cell-carcinoma/",
                SCF,
            ),
            ("Non-melanoma skin cancer", "https://www.nhs.uk/conditions/non-melanoma-skin-cancer/", NHS),
            ("Basal cell carcinoma", "https://dermnetnz.org/topics/basal-cell-carcinoma", DERMNET),
        ],
    },
    # ---------------------------------------------------------------------------------------------
    {
        "code": "akiec",
        "name": "Actinic keratosis / intraepithelial carcinoma",
        "malignant": True,
        "order": 70,
        "summary": (
            "Rough, scaly patches on sun-damaged skin. Actinic keratoses can turn into skin cancer; "
            "intraepithelial carcinoma (Bowen's disease) is an early skin cancer in the skin's top layer."
        ),
        "description": """\
This group brings together two related conditions, both caused mainly by years of sun exposure.

**Actinic keratosis** (also called solar keratosis) is a dry, rough or scaly spot that can often be felt, like sandpaper, before it is easy to see. It may be pink, red, skin-coloured or light brown, and is usually a few millimetres to a couple of centimetres across. Actinic keratoses appear on skin that has had a lot of sun: the face, ears, scalp (especially where hair is thin), the backs of the hands and forearms, and the lower legs. They are not cancer, but a small number turn into a skin cancer called squamous cell carcinoma over time.

**Intraepithelial carcinoma**, also called Bowen's disease or squamous cell carcinoma in situ, is an early form of skin cancer that stays within the outermost layer of the skin. It usually looks like a slowly growing red, scaly patch with a clear edge, and can be mistaken for eczema or psoriasis. If it is not treated, it can sometimes grow deeper and become an invasive squamous cell carcinoma.

The model puts the two together because they look alike and have the same cause. Skinsite counts this group among the malignant types so that it is not overlooked: both are worth showing to a doctor, and both are very treatable when found early.

They are most common in people over 50 with fair skin that burns easily, in people who have spent a lot of time outdoors or used sunbeds, and in people whose immune system is weakened, for example by medicines taken after an organ transplant.""",
        "advice": """\
Show any rough, scaly or crusty patch that does not go away to a doctor (a GP or dermatologist). Treatment is usually simple: freezing, a prescription cream or gel, light-based treatment or a small operation, depending on the type, size and place.

## See a doctor soon if the spot
- grows quickly, thickens or becomes a firm lump
- is tender or painful
- bleeds, weeps or becomes a sore that does not heal within a few weeks

These can be signs that it has become a squamous cell carcinoma, which needs prompt treatment.

## Meanwhile
- Protect your skin from the sun: shade, clothing, a hat and a broad-spectrum sunscreen of SPF 30 or more.
- Avoid sunbeds.
- Check your skin regularly, and photograph the spot the same way each time so that changes are easy to see.""",
        "images": [
            _image("ISIC_0032455", "Dermoscopy image of a red, scaly intraepithelial carcinoma on the arm."),
            _image("ISIC_0025331", "Dermoscopy image of a scaly actinic keratosis on the face."),
            _image("ISIC_0027950", "Dermoscopy image of a red actinic keratosis on the face, with fine vessels."),
        ],
        "resources": [
            (
                "Actinic keratosis: overview",
                "https://www.aad.org/public/diseases/skin-cancer/actinic-keratosis-overview",
                AAD,
            ),
            ("Actinic keratoses (solar keratoses)", "https://www.nhs.uk/conditions/actinic-keratoses/", NHS),
            (
                "Actinic keratosis",
                "https://www.skincancer.org/skin-cancer-information/actinic-keratosis/",
                SCF,
            ),
            ("Actinic keratosis", "https://dermnetnz.org/topics/actinic-keratosis", DERMNET),
        ],
    },
]

GUIDES = [
    # ---------------------------------------------------------------------------------------------
    {
        "slug": "abcde",
        "title": "The ABCDE warning signs of melanoma",
        "order": 10,
        "summary": "Five things to look for when you check a mole, and when to have a spot seen by a doctor.",
        "body": """\
The ABCDE rule is a short checklist that helps you notice moles and spots that could be a melanoma. It is a reason to have a spot checked, not a way to diagnose it: many harmless moles show one or more of these signs, and some melanomas show none.

## A is for Asymmetry
Imagine a line through the middle of the spot. In an ordinary mole the two halves look alike. In a melanoma, one half often has a different shape from the other.

## B is for Border
An ordinary mole usually has a smooth, clear edge. Be more careful if the edge is ragged, notched, scalloped or blurred, or if the colour seems to spread into the skin around it.

## C is for Colour
Ordinary moles usually have one even shade of brown. A spot with several colours (light and dark brown, black, red, pink, white, grey or blue), or with uneven patches of colour, should be checked.

## D is for Diameter
Most melanomas are wider than about 6 millimetres (the size of a pencil's eraser) by the time they are found, but they can be smaller. A spot that is bigger than your other moles, or that is growing, is worth a look.

## E is for Evolving
Change is the most important sign. Look for a mole that changes in size, shape, colour or height, or that starts to itch, crust or bleed. Photos taken the same way every few months make change much easier to see; that is what Skinsite is for.

## The "ugly duckling" sign
Most of a person's moles look like one another. A mole that looks different from the rest deserves attention, even if it passes the ABCDE checks.

## Also have a spot checked if it
- is a new or fast-growing lump, even if it is pink, red or skin-coloured rather than dark: some melanomas have little or no pigment
- is a new dark streak along a nail that is not from an injury
- bleeds, weeps or becomes a sore that does not heal

## What to do
If a spot shows any of these signs, make an appointment with a doctor (a GP or dermatologist). Most spots that are checked turn out to be harmless, and a melanoma that is found early is usually cured by a small operation.""",
        "resources": [
            ("What to look for: ABCDEs of melanoma", "https://www.aad.org/public/diseases/skin-cancer/find/at-risk/abcdes", AAD),
            (
                "Melanoma warning signs and images",
                "https://www.skincancer.org/skin-cancer-information/melanoma/melanoma-warning-signs-and-images/",
                SCF,
            ),
            ("Melanoma skin cancer", "https://www.nhs.uk/conditions/melanoma-skin-cancer/", NHS),
        ],
    },
    # ---------------------------------------------------------------------------------------------
    {
        "slug": "photographing-a-mole",
        "title": "How to take a good photo of a mole",
        "order": 20,
        "summary": "Sharp, well-lit photos taken the same way each time make changes easier to see, for you and your doctor.",
        "body": """\
Skinsite lines up the photos of each lesion over time. Photos taken the same way each time make real change easier to see, and give the model a fairer chance: blur, shadows and coloured light can change its estimates as much as a change in the skin.

## Before you start
- Find bright, even daylight, for example near a window but out of direct sun. Turn off coloured or warm lamps.
- Wipe the camera lens clean.
- Move hair away from the spot if you can, and remove make-up, cream or fake tan from the area.
- Ask someone to help with spots on your back or anywhere else that is hard to see.

## Taking the photo
- Hold the camera straight above the spot, not at an angle, so its shape is not distorted.
- Let the spot fill much of the picture, with a little normal skin all around it. The whole spot must be in the picture.
- Tap the spot on the screen to focus, and check that the photo is sharp before you move on. If your phone cannot focus that close, move back a little and zoom in slightly instead.
- Turn the flash off unless the light is poor: flash can cause glare and wash out colours.
- In at least one photo, put a ruler, a tape measure or a coin next to the spot (not on it) so its size can be judged.
- Take two or three photos and keep the sharpest.

## Every time
- Use the same room, light, distance and angle as last time, so the photos can be compared side by side.
- Also keep a wider photo that shows where the spot is on your body, so you and your doctor can find it again. Upload only the close-up to Skinsite: the model is made for close-ups of a single spot.
- Photograph the spot every few months, or sooner if you think it is changing, and write down anything you notice, such as itching or bleeding.

## What a photo cannot do
The model learned from dermoscopy images, which are taken through a magnifying lens with its own light; ordinary photos look different, which is one more reason its estimates are only a guide. A photo cannot replace an examination by a doctor, who can feel the spot, look at it with a dermatoscope and ask about its history. If a spot worries you, see a doctor, whatever the photos or the estimates say.""",
        "resources": [
            ("How to examine your skin", "https://www.aad.org/public/diseases/skin-cancer/find/check-skin", AAD),
            ("Skin self-exams", "https://www.skincancer.org/early-detection/self-exams/", SCF),
        ],
    },
]


def store_image(filename: str) -> str:
    """Copy a committed example image into the default storage once; return its storage name."""
    from django.core.files import File
    from django.core.files.storage import default_storage

    # A fixed name, so running this again (another database on the same storage) reuses the file.
    name = STORAGE_PREFIX + filename
    if not default_storage.exists(name):
        with open(IMAGES_DIR / filename, "rb") as fh:
            name = default_storage.save(name, File(fh, name=filename))
    return name


def load_default_content(apps, schema_editor) -> None:
    """Create whatever default condition or guide is missing; never touch one that exists."""
    Condition = apps.get_model("education", "Condition")
    ExampleImage = apps.get_model("education", "ExampleImage")
    Guide = apps.get_model("education", "Guide")
    Resource = apps.get_model("education", "Resource")

    for data in CONDITIONS:
        fields = {k: v for k, v in data.items() if k not in ("images", "resources")}
        condition, created = Condition.objects.get_or_create(code=data["code"], defaults=fields)
        if not created:
            continue
        for order, image in enumerate(data["images"]):
            ExampleImage.objects.create(
                condition=condition,
                image=store_image(image["file"]),
                caption=image["caption"],
                attribution=image["attribution"],
                order=order,
            )
        for order, (title, url, publisher) in enumerate(data["resources"]):
            Resource.objects.create(condition=condition, title=title, url=url, publisher=publisher, order=order)

    for data in GUIDES:
        fields = {k: v for k, v in data.items() if k != "resources"}
        guide, created = Guide.objects.get_or_create(slug=data["slug"], defaults=fields)
        if not created:
            continue
        for order, (title, url, publisher) in enumerate(data["resources"]):
            Resource.objects.create(guide=guide, title=title, url=url, publisher=publisher, order=order)


def remove_default_content(apps, schema_editor) -> None:
    # Rows only: the image files may be shared with another database on the same storage.
    apps.get_model("education", "Condition").objects.filter(code__in=[c["code"] for c in CONDITIONS]).delete()
    apps.get_model("education", "Guide").objects.filter(slug__in=[g["slug"] for g in GUIDES]).delete()


class Migration(migrations.Migration):
    dependencies = [("education", "0001_initial")]

    operations = [migrations.RunPython(load_default_content, remove_default_content)]
