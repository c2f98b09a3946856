"""The three staff roles as groups. Superusers can do everything administrators can."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["statement", "theme", "article", "commitment", "followup"]
HISTORY = ["historicalstatement", "historicaltheme", "historicalcommitment"]

VIEW = [f"commitments.view_{m}" for m in MODELS + HISTORY]
EDIT = ["commitments.add_followup", "commitments.change_commitment"]
ADMINISTER = [
    *(f"commitments.{action}_{m}" for m in ["statement", "theme", "article", "commitment"]
      for action in ("add", "change", "delete")),
    *(f"auth.{action}_{m}" for m in ["user", "group"] for action in ("add", "change", "delete", "view")),
    "commitments.view_reminderlog",
]

ROLES = {
    "viewers": VIEW,
    "editors": VIEW + EDIT,
    "administrators": VIEW + EDIT + ADMINISTER,
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0002_history_versions_reminders"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
