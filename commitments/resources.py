"""CSV import and export of statements and commitments (django-import-export).

The export is the import format: exporting and importing the same file changes nothing.
Derived state (status, progress) and follow-ups are not part of it: history is recorded,
not imported, and internal notes never leave the staff pages.
"""

from django.contrib.auth import get_user_model
from django.utils.safestring import mark_safe
from import_export import fields, resources, widgets

from .models import Article, Commitment, Statement, Theme
from .records import changed, claim_version


class UnstyledDiff(resources.Diff):
    """The import preview's differences as bare <ins> and <del>: diff-match-patch writes
    inline style attributes, which the Content-Security-Policy blocks. static/css/admin.css
    colours them. The text inside is escaped (no "<"), so only the tags can match."""

    TAGS = {
        '<ins style="background:#e6ffe6;">': "<ins>",
        '<del style="background:#ffe6e6;">': "<del>",
    }

    def as_html(self):
        # Safe: the library escaped the text; only its own tags are rewritten.
        return [mark_safe(self._unstyled(html)) for html in super().as_html()]  # noqa: S308  # nosec

    def _unstyled(self, html):
        for styled, bare in self.TAGS.items():
            html = html.replace(styled, bare)
        return html


class UnstyledDiffMixin:
    @classmethod
    def get_diff_class(cls):
        return UnstyledDiff


class PublicDataResource(UnstyledDiffMixin, resources.ModelResource):
    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        # In the import's transaction: a preview (dry run) rolls it all back, bump included.
        changed()


class StatementResource(PublicDataResource):
    class Meta:
        model = Statement
        import_id_fields = ["slug"]
        fields = [
            "slug",
            "title",
            "delegation",
            "code",
            "meeting",
            "place",
            "date",
            "language",
            "source_url",
            "text",
        ]
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True


class CommitmentResource(PublicDataResource):
    statement = fields.Field(
        attribute="statement",
        column_name="statement",
        widget=widgets.ForeignKeyWidget(Statement, field="slug"),
    )
    theme = fields.Field(
        attribute="theme", column_name="theme", widget=widgets.ForeignKeyWidget(Theme, "slug")
    )
    articles = fields.Field(
        attribute="articles",
        column_name="articles",
        widget=widgets.ManyToManyWidget(Article, separator=",", field="number"),
    )
    owner = fields.Field(
        attribute="owner",
        column_name="owner",
        widget=widgets.ForeignKeyWidget(get_user_model(), "username"),
    )

    class Meta:
        model = Commitment
        import_id_fields = ["reference"]
        fields = [
            "reference",
            "statement",
            "theme",
            "title",
            "quote",
            "kind",
            "articles",
            "weight",
            "owner",
            "next_review",
            "published",
        ]
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def get_queryset(self):
        return Commitment.objects.select_related("statement", "theme", "owner").prefetch_related(
            "articles"
        )

    def before_save_instance(self, instance, row, **kwargs):
        # An import that changes a commitment is an edit: move its version, so a form
        # opened before the import is refused rather than silently overwriting it.
        if instance.pk:
            claim_version(instance)
