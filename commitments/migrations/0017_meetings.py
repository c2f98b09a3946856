"""The Convention's meetings as records (commitments/data/meetings.json, with its sources),
instead of a list in the code: adds those missing and changes none that staff have edited;
reversing removes nothing. Staff keep them, and add later meetings, in the admin; viewers
and editors may read them, administrators change them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from commitments.data import add_missing_meetings

READ = ["view_meeting", "view_historicalmeeting"]
ROLES = {
    "viewers": READ,
    "editors": READ,
    "administrators": [*READ, "add_meeting", "change_meeting", "delete_meeting"],
}


def add_meetings(apps, schema_editor):
    add_missing_meetings(apps.get_model("commitments", "Meeting"))


def grant(apps, schema_editor):
    """The roles of 0003 learn the meeting pages (a group removed by hand stays removed)."""
    app_config = apps.get_app_config("commitments")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="commitments", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [("commitments", "0016_delegation_roles")]

    operations = [
        migrations.RunPython(add_meetings, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
