"""A second reviewer (issue 15): a follow-up that changes a commitment's status waits, as a
ProposedFollowUp, until another editor confirms it or sends it back (a Review row); confirming
writes the FollowUp with who confirmed it. Every role reads the proposals and reviews (the
admin, the staff queue); editors and administrators confirm or send back (review_followup).
The proposals and reviews are append-only, like the follow-ups."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


READ = ["view_proposedfollowup", "view_review"]
GRANTS = {
    "viewers": READ,
    "editors": [*READ, "review_followup"],
    "administrators": [*READ, "review_followup"],
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
    dependencies = [
        ("commitments", "0018_treaty_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Review",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "decision",
                    models.CharField(
                        choices=[
                            ("confirmed", "Confirmed"),
                            ("sent_back", "Sent back"),
                            ("withdrawn", "Withdrawn by its author"),
                        ],
                        max_length=12,
                        verbose_name="decision",
                    ),
                ),
                (
                    "note",
                    models.TextField(
                        blank=True,
                        help_text="Required when sending back: what the author should check or change.",
                        validators=[django.core.validators.MaxLengthValidator(10000)],
                        verbose_name="note",
                    ),
                ),
                (
                    "reviewed_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        editable=False,
                        verbose_name="reviewed at",
                    ),
                ),
            ],
            options={
                "verbose_name": "review",
                "verbose_name_plural": "reviews",
                "ordering": ["-reviewed_at", "-pk"],
            },
        ),
        migrations.AddField(
            model_name="followup",
            name="confirmed_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="confirmed_follow_ups",
                to=settings.AUTH_USER_MODEL,
                verbose_name="confirmed by",
            ),
        ),
        migrations.CreateModel(
            name="ProposedFollowUp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("not_assessed", "Not yet assessed"),
                            ("not_started", "Not started"),
                            ("off_track", "Off track"),
                            ("in_progress", "In progress"),
                            ("on_track", "On track"),
                            ("achieved", "Achieved"),
                        ],
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                (
                    "progress",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text="Optional, 0 to 100. Left empty, the status's standard figure is used.",
                        null=True,
                        validators=[django.core.validators.MaxValueValidator(100)],
                        verbose_name="progress",
                    ),
                ),
                (
                    "happened_on",
                    models.DateField(
                        help_text="The date it happened, not the date you record it.",
                        verbose_name="happened on",
                    ),
                ),
                (
                    "public_note",
                    models.TextField(
                        blank=True,
                        help_text="What happened, in words the public will read.",
                        validators=[django.core.validators.MaxLengthValidator(10000)],
                        verbose_name="public note",
                    ),
                ),
                (
                    "public_note_en",
                    models.TextField(
                        blank=True,
                        help_text="What happened, in words the public will read.",
                        null=True,
                        validators=[django.core.validators.MaxLengthValidator(10000)],
                        verbose_name="public note",
                    ),
                ),
                (
                    "public_note_fr",
                    models.TextField(
                        blank=True,
                        help_text="What happened, in words the public will read.",
                        null=True,
                        validators=[django.core.validators.MaxLengthValidator(10000)],
                        verbose_name="public note",
                    ),
                ),
                (
                    "public_note_es",
                    models.TextField(
                        blank=True,
                        help_text="What happened, in words the public will read.",
                        null=True,
                        validators=[django.core.validators.MaxLengthValidator(10000)],
                        verbose_name="public note",
                    ),
                ),
                (
                    "internal_note",
                    models.TextField(
                        blank=True,
                        help_text="Seen by staff only. Never published, exported or fed.",
                        validators=[django.core.validators.MaxLengthValidator(10000)],
                        verbose_name="internal note",
                    ),
                ),
                (
                    "evidence_url",
                    models.URLField(blank=True, max_length=500, verbose_name="evidence URL"),
                ),
                (
                    "evidence_label",
                    models.CharField(
                        blank=True,
                        help_text="What the link is, e.g. “Ratification record”.",
                        max_length=200,
                        verbose_name="evidence label",
                    ),
                ),
                (
                    "evidence_label_en",
                    models.CharField(
                        blank=True,
                        help_text="What the link is, e.g. “Ratification record”.",
                        max_length=200,
                        null=True,
                        verbose_name="evidence label",
                    ),
                ),
                (
                    "evidence_label_fr",
                    models.CharField(
                        blank=True,
                        help_text="What the link is, e.g. “Ratification record”.",
                        max_length=200,
                        null=True,
                        verbose_name="evidence label",
                    ),
                ),
                (
                    "evidence_label_es",
                    models.CharField(
                        blank=True,
                        help_text="What the link is, e.g. “Ratification record”.",
                        max_length=200,
                        null=True,
                        verbose_name="evidence label",
                    ),
                ),
                (
                    "proposed_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        editable=False,
                        verbose_name="proposed at",
                    ),
                ),
                (
                    "based_on_version",
                    models.PositiveIntegerField(editable=False, verbose_name="based on version"),
                ),
                (
                    "status_before",
                    models.CharField(
                        choices=[
                            ("not_assessed", "Not yet assessed"),
                            ("not_started", "Not started"),
                            ("off_track", "Off track"),
                            ("in_progress", "In progress"),
                            ("on_track", "On track"),
                            ("achieved", "Achieved"),
                        ],
                        editable=False,
                        max_length=20,
                        verbose_name="status before",
                    ),
                ),
                (
                    "progress_before",
                    models.PositiveSmallIntegerField(
                        blank=True, editable=False, null=True, verbose_name="progress before"
                    ),
                ),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="proposed_follow_ups",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="author",
                    ),
                ),
                (
                    "commitment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="proposals",
                        to="commitments.commitment",
                        verbose_name="commitment",
                    ),
                ),
                (
                    "states",
                    models.ManyToManyField(
                        blank=True,
                        help_text="The states it concerns, e.g. the signatories invited to a workshop.",
                        related_name="proposed_follow_ups",
                        to="commitments.state",
                        verbose_name="states concerned",
                    ),
                ),
            ],
            options={
                "verbose_name": "proposed follow-up",
                "verbose_name_plural": "proposed follow-ups",
                "ordering": ["proposed_at", "pk"],
                "permissions": [
                    ("review_followup", "Can confirm or send back another editor's follow-up")
                ],
            },
        ),
        migrations.AddField(
            model_name="followup",
            name="proposal",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="follow_up",
                to="commitments.proposedfollowup",
                verbose_name="proposed follow-up",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("confirmed_by__isnull", True),
                    models.Q(("confirmed_by", models.F("author")), _negated=True),
                    _connector="OR",
                ),
                name="commitments_followup_confirmed_by_another",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("confirmed_by__isnull", True), ("proposal__isnull", True)),
                    models.Q(("confirmed_by__isnull", False), ("proposal__isnull", False)),
                    _connector="OR",
                ),
                name="commitments_followup_confirmed_with_proposal",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="proposal",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="review",
                to="commitments.proposedfollowup",
                verbose_name="proposed follow-up",
            ),
        ),
        migrations.AddField(
            model_name="review",
            name="reviewer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reviews",
                to=settings.AUTH_USER_MODEL,
                verbose_name="reviewer",
            ),
        ),
        migrations.AddConstraint(
            model_name="proposedfollowup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "not_assessed",
                            "not_started",
                            "off_track",
                            "in_progress",
                            "on_track",
                            "achieved",
                        ],
                    )
                ),
                name="commitments_proposedfollowup_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="proposedfollowup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("progress__isnull", True), ("progress__lte", 100), _connector="OR"
                ),
                name="commitments_proposedfollowup_progress_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(("decision__in", ["confirmed", "sent_back", "withdrawn"])),
                name="commitments_review_decision_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="review",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("decision", "sent_back"), _negated=True),
                    models.Q(("note", ""), _negated=True),
                    _connector="OR",
                ),
                name="commitments_review_sent_back_with_note",
            ),
        ),
        # Last: the tables are altered before the data step (see 0015 on PostgreSQL).
        migrations.RunPython(grant, revoke),
    ]
