"""The "Content editor" group: view, add, change and delete on the education models, nothing else.

Editors are staff users (is_staff, so they can log in to the admin) put in this group by a superuser.
They get no permission on accounts or lesions, so patients' data stays out of their reach.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Content editor"
MODELS = ["condition", "exampleimage", "guide", "resource"]
ACTIONS = ["view", "add", "change", "delete"]


def create_group(apps, schema_editor) -> None:
    # Permissions are normally created after all migrations ran (post_migrate); create education's
    # now, so a fresh database gets a complete group in one `migrate`.
    app_config = apps.get_app_config("education")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True  # create_permissions skips an app without one
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    codenames = [f"{action}_{model}" for model in MODELS for action in ACTIONS]
    group.permissions.set(Permission.objects.filter(content_type__app_label="education", codename__in=codenames))


def remove_group(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("education", "0002_default_content"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
