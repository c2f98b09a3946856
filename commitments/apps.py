from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


def _drop_triggers(sender, using, plan=None, **kwargs):
    """Before migrations run: the triggers that mark outdated copies come off the tables a
    migration may rebuild (commitments.derived)."""
    if plan:
        from django.db import connections

        from .derived import drop_triggers

        drop_triggers(connections[using])


def _install_triggers(sender, using, **kwargs):
    """After migrations: the triggers go back on, and if any was missing every commitment
    is re-derived from its follow-ups, so that nothing written meanwhile goes unmarked."""
    from django.db import connections

    from .derived import ensure_current, install_triggers

    if install_triggers(connections[using]) and using == "default":
        ensure_current()


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = _("Commitments")

    def ready(self):
        pre_migrate.connect(_drop_triggers, sender=self)
        post_migrate.connect(_install_triggers, sender=self)
