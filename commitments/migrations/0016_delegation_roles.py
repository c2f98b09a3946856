"""The roles and delegations: every role reads them (and their history), as it reads the
statements; administrators add, change and delete them, as they do statements. A statement's
delegation is chosen in the admin's search box, which needs the reading right."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "viewers": ["view_delegation", "view_historicaldelegation"],
    "editors": ["view_delegation", "view_historicaldelegation"],
    "administrators": [
        "view_delegation",
        "view_historicaldelegation",
        "add_delegation",
        "change_delegation",
        "delete_delegation",
    ],
}


def _permissions(apps, codenames):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="commitments", codename__in=codenames
    )


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need these now.
    config = apps.get_app_config("commitments")
    models_module = getattr(config, "models_module", None)
    config.models_module = models_module or True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):  # none if removed by hand
            group.permissions.add(*_permissions(apps, codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*_permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0015_statement_delegation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
