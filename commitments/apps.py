from django.apps import AppConfig
from django.core import checks
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


def second_review_setting(app_configs, **kwargs):
    """settings.SECOND_REVIEW names what it may (commitments.records.review_statuses)."""
    from django.core.checks import Error
    from django.core.exceptions import ImproperlyConfigured

    from .records import review_statuses

    try:
        review_statuses()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="commitments.E001")]
    return []


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = _("Commitments")

    def ready(self):
        pre_migrate.connect(_drop_triggers, sender=self)
        post_migrate.connect(_install_triggers, sender=self)
        checks.register(second_review_setting)
