"""The roles and the treaty record: every role reads the states and their treaty events;
editors and administrators record events (by hand or by importing the depositary's table), as
editors record follow-ups; administrators keep the states' reference data (a state's region).
Events are never changed or deleted, by anyone (commitments/admin_treaty.py)."""

from django.db import migrations

READ = ["view_state", "view_treatyevent"]
GRANTS = {
    "viewers": READ,
    "editors": [*READ, "add_treatyevent"],
    "administrators": [*READ, "add_treatyevent", "change_state"],
}


def grant(apps, schema_editor):
    from importlib import import_module

    # The same steps as 0016's: the permissions exist before the groups learn them.
    roles = import_module("commitments.migrations.0016_delegation_roles")
    config = apps.get_app_config("commitments")
    models_module = getattr(config, "models_module", None)
    config.models_module = models_module or True
    roles.create_permissions(config, apps=apps, verbosity=0)
    config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):  # none if removed by hand
            group.permissions.add(*roles._permissions(apps, codenames))


def revoke(apps, schema_editor):
    from importlib import import_module

    roles = import_module("commitments.migrations.0016_delegation_roles")
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*roles._permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [("commitments", "0017_meetings")]

    operations = [migrations.RunPython(grant, revoke)]
