"""Administrators may see login lockouts and lift one (delete its access attempt), as the
README says; the roles of 0003 left it to superusers."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

UNLOCK = [
    "axes.view_accessattempt",
    "axes.delete_accessattempt",
    "axes.view_accessfailurelog",
    "axes.view_accesslog",
]


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; the group needs axes' now.
    axes = apps.get_app_config("axes")
    models_module = getattr(axes, "models_module", None)
    axes.models_module = models_module or True
    create_permissions(axes, apps=apps, verbosity=0)
    axes.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="administrators").first()
    if group is None:  # removed by hand, or a database migrated without the roles
        return
    for code in UNLOCK:
        app_label, codename = code.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="administrators"):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="axes", codename__in=[c.split(".")[1] for c in UNLOCK]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0006_followup_note_limit"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
