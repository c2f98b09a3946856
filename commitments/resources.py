"""CSV import and export of statements and commitments (django-import-export).

The export is the import format: exporting and importing the same file changes nothing.
Translatable content (commitments/translation.py) comes in every language: a column named as
the field (`title`) is the English original, as in files written before issue 13, and each
other language has its own column at the end (`title_fr`, `title_es`). A column is read and
written by its language, never by the importing staff member's: a French session never puts
the English file into the French versions. A file without the language columns leaves the
versions stored as they are.
Derived state (status, progress) and follow-ups are not part of it: history is recorded,
not imported, and internal notes never leave the staff pages.

An import is bounded (settings.IMPORT_MAX_ROWS, IMPORT_MAX_BYTES in admin.py) and its preview
writes nothing: rows are read with a handful of queries whatever their number (existing rows,
statements, themes, owners and articles are each loaded once), validated, and compared, but
only a confirmed import saves them, through the models' save paths.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from import_export import fields, resources, results, widgets
from import_export.instance_loaders import CachedInstanceLoader

from .content import LANGUAGE_CODES, version
from .delegations import country_code
from .models import Article, Commitment, Delegation, Meeting, Statement, Theme
from .records import changed, claim_version
from .spreadsheets import neutralise, unneutralise
from .translation import ORIGINAL, OTHER_LANGUAGES, TRANSLATED, columns


def with_versions(model, names):
    """`names`, then the other languages' columns of those that are translatable (title_fr,
    title_es, …), at the end: a file written before them keeps its shape."""
    translated = [name for name in names if name in TRANSLATED[model]]
    return [*names, *(c for name in translated for c in columns(name, OTHER_LANGUAGES))]


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


class ImportFileError(Exception):
    """A whole file refused, with a message for the person importing it."""


class NoTraceback(results.Error):
    """Errors shown in the admin's import page: the message, never a traceback."""

    @property
    def traceback(self):
        return ""


class CachedForeignKeyWidget(widgets.ForeignKeyWidget):
    """ForeignKeyWidget reading its table once per import instead of once a row (the
    library's CachedForeignKeyWidget builds a namedtuple class on every lookup)."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return None
        if not hasattr(self, "_by_key"):
            self._by_key = {str(getattr(o, self.field)): o for o in self.model.objects.all()}
        try:
            return self._by_key[str(value).strip()]
        except KeyError:
            raise self.model.DoesNotExist(
                _("No %(model)s “%(value)s”.")
                % {"model": self.model._meta.verbose_name, "value": value}
            ) from None


class CachedManyToManyWidget(widgets.ManyToManyWidget):
    """ManyToManyWidget reading its (small) table once per import instead of once a row."""

    def clean(self, value, row=None, **kwargs):
        if not value:
            return []
        if not hasattr(self, "_by_key"):
            self._by_key = {str(getattr(o, self.field)): o for o in self.model.objects.all()}
        keys = [k.strip() for k in str(value).split(self.separator) if k.strip()]
        unknown = [k for k in keys if k not in self._by_key]
        if unknown:
            raise ValueError(
                _("Unknown %(model)s: %(values)s")
                % {"model": self.model._meta.verbose_name, "values": ", ".join(unknown)}
            )
        return [self._by_key[k] for k in keys]


class _Listed(list):
    def all(self):
        return self


class ImportedManyToManyField(fields.Field):
    """The row's values for the preview's comparison, as the preview saves nothing."""

    def get_value(self, instance):
        imported = getattr(instance, "_imported_m2m", {})
        if self.attribute in imported:
            return _Listed(imported[self.attribute])
        return super().get_value(instance)


class VersionField(fields.Field):
    """A French or Spanish version's column: an empty cell is "no version yet", stored as
    NULL, and equal to a version stored empty, so a round trip changes nothing."""

    def clean(self, row, **kwargs):
        value = super().clean(row, **kwargs)
        return value if value and value.strip() else None

    def get_value(self, instance):
        return super().get_value(instance) or None


class BoundedResource(resources.ModelResource):
    """What every import here shares: limits, known columns, one row per key, no NUL
    characters, formula cells read back as exported, a preview that writes nothing, and a
    preview whose differences the Content-Security-Policy lets through (UnstyledDiff)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # The bare name of a translatable field means the active language's version: the
        # column named as the field is the English original, read and written as such.
        for name in TRANSLATED.get(self._meta.model, ()):
            if name in self.fields:
                self.fields[name].attribute = f"{name}_{ORIGINAL}"
            for column in columns(name, OTHER_LANGUAGES):
                if column in self.fields:
                    field = self.fields[column]
                    self.fields[column] = VersionField(column, column, widget=field.widget)

    @classmethod
    def get_diff_class(cls):
        return UnstyledDiff

    def get_error_result_class(self):
        return NoTraceback

    def get_import_fields(self):
        # Asked several times a row; the answer never changes during an import.
        if not hasattr(self, "_import_fields"):
            self._import_fields = super().get_import_fields()
        return self._import_fields

    def export_field(self, field, instance, **kwargs):
        return neutralise(super().export_field(field, instance, **kwargs))

    def import_data_inner(self, dataset, dry_run, raise_errors, *args, **kwargs):
        try:
            self._check_file(dataset)
        except ImportFileError as error:
            # The whole file is refused: not one row is read.
            result = self.get_result_class()()
            result.diff_headers = self.get_diff_headers()
            result.total_rows = len(dataset)
            self.handle_import_error(result, error, raise_errors)
            return result
        if dry_run:
            # The preview writes nothing, so it needs no savepoint a row: the transaction
            # around the whole import (import_data) is rolled back all the same.
            using_transactions, *args = args
            args = [False, *args]
        return super().import_data_inner(dataset, dry_run, raise_errors, *args, **kwargs)

    def _check_file(self, dataset):
        limit = settings.IMPORT_MAX_ROWS
        if len(dataset) > limit:
            raise ImportFileError(
                _(
                    "This file has %(rows)s rows; an import takes at most %(limit)s. "
                    "Split it into smaller files and import them one after the other."
                )
                % {"rows": f"{len(dataset):,}", "limit": f"{limit:,}"}
            )
        expected = [field.column_name for field in self.get_import_fields()]
        headers = [str(h or "").strip() for h in (dataset.headers or [])]
        unknown = [h for h in headers if h not in expected]
        key = self._meta.import_id_fields[0]
        if unknown or key not in headers or len(set(headers)) != len(headers):
            raise ImportFileError(
                _(
                    "The first line of the file must name its columns, from: %(expected)s "
                    "(“%(key)s” is required). This file's first line is: %(found)s."
                )
                % {
                    "expected": ",".join(expected),
                    "key": key,
                    "found": ",".join(headers)[:300] or _("(empty)"),
                }
            )
        # Where each key is first seen, to refuse the rows that repeat it.
        self._first_line = {}
        self._repeats = {}
        for number, value in enumerate(dataset[key], 1):
            value = str(value or "").strip()
            if value in self._first_line:
                self._repeats[number] = self._first_line[value]
            else:
                self._first_line[value] = number

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        for column, value in row.items():
            if isinstance(value, str) and "\x00" in value:
                errors[self._attribute(column)] = ValidationError(
                    _("Contains a NUL character (\\x00), which cannot be stored. Remove it.")
                )
            row[column] = unneutralise(value)
        if errors:
            raise ValidationError(errors)
        first = getattr(self, "_repeats", {}).get(kwargs.get("row_number"))
        if first is not None:
            key = self._meta.import_id_fields[0]
            raise ValidationError(
                {
                    key: ValidationError(
                        _(
                            "“%(value)s” is already on line %(line)s of this file: each "
                            "%(model)s may appear once. Nothing was imported; remove one of "
                            "the two rows."
                        )
                        % {
                            "value": row.get(key),
                            "line": first,
                            "model": self._meta.model._meta.verbose_name,
                        }
                    )
                }
            )
        super().import_instance(instance, row, **kwargs)
        instance._imported_m2m = {
            field.attribute: field.clean(row, **kwargs)
            for field in self.get_import_fields()
            if isinstance(field.widget, widgets.ManyToManyWidget) and field.column_name in row
        }

    def _attribute(self, column):
        for field in self.get_import_fields():
            if field.column_name == column:
                return field.attribute or column
        return column

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # Uniqueness is the import key's (one row per key, found by the instance loader) and
        # the database's at save time; asking the database again for every row would make
        # the preview's queries grow with the file.
        # Likewise a foreign key found by the import's cached lookups (or already stored)
        # exists: only a missing one is checked.
        errors = dict(import_validation_errors or {})
        # A required text needs its English original: the model's own check reads the active
        # language's version, or another's in its place, and would let an empty one through.
        for name in TRANSLATED.get(instance._meta.model, ()):
            field = instance._meta.get_field(name)
            if not field.blank and not (getattr(instance, f"{name}_{ORIGINAL}") or "").strip():
                errors.setdefault(name, ValidationError(field.error_messages["blank"]))
        found = {
            field.name
            for field in instance._meta.concrete_fields
            if field.many_to_one and getattr(instance, field.attname) is not None
        }
        try:
            instance.full_clean(
                exclude={*errors, *found}, validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        # The preview (a dry run) validates and compares every row but saves none: saving
        # then rolling back cost a second a hundred rows.
        if self._is_dry_run(kwargs):
            return
        super().save_instance(instance, is_create, row, **kwargs)

    def save_m2m(self, instance, row, **kwargs):
        if self._is_dry_run(kwargs):
            return
        super().save_m2m(instance, row, **kwargs)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        # In the import's transaction: derived copies now, cached pages once it commits.
        if not self._is_dry_run(kwargs) and not result.has_errors():
            changed()


class DelegationWidget(widgets.ForeignKeyWidget):
    """A statement's delegation in a file: written as its English name, read from its name
    (in any of the tracker's languages) or its code (delegations.find), the table read once
    an import. One that is not there is the row's error: delegations are added in the admin,
    never made up by an import."""

    def __init__(self):
        super().__init__(Delegation, "code")

    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return None
        if not hasattr(self, "_rows"):
            self._rows = list(Delegation.objects.select_related("state"))
            self._by_key = {}
            for delegation in self._rows:
                for language in LANGUAGE_CODES:
                    if name := version(delegation, "name", language):
                        self._by_key.setdefault(name.casefold(), delegation)
            for delegation in self._rows:  # a code wins over a name
                self._by_key[delegation.code.casefold()] = delegation
        found = self._by_key.get(text.casefold())
        if found is None and (country := country_code(text)):
            found = next((d for d in self._rows if d.country_code == country), None)
        if found is None:
            raise ValueError(
                _(
                    "No delegation “%(value)s”. Give a delegation's code (NOR) or name, or add "
                    "the delegation in the admin first."
                )
                % {"value": text}
            )
        return found

    def render(self, value, obj=None, **kwargs):
        return version(value, "name", ORIGINAL) if value else ""


class MeetingWidget(widgets.ForeignKeyWidget):
    """A Convention meeting in a file: its code (4MSP), any case; blank for none. A code that
    is not a recorded meeting is the row's error: meetings are added in the admin."""

    def clean(self, value, row=None, **kwargs):
        code = str(value or "").strip()
        if not code:
            return None
        if not hasattr(self, "_by_code"):  # the table read once an import
            self._by_code = {meeting.code.casefold(): meeting for meeting in Meeting.objects.all()}
        found = self._by_code.get(code.casefold())
        if found is None:
            raise ValueError(
                _("No meeting “%(value)s”. Give a meeting's code (4MSP), or add it in the admin.")
                % {"value": code}
            )
        return found

    def render(self, value, obj=None, **kwargs):
        return value.code if value else ""


class StatementResource(BoundedResource):
    delegation = fields.Field(
        attribute="delegation", column_name="delegation", widget=DelegationWidget()
    )
    # Written for the reader, read back to check: the delegation's code and its names in the
    # other languages come from the delegation (the admin's Delegations), not from the file.
    code = fields.Field(column_name="code", readonly=True)
    # The Convention meeting by its code (4MSP); one not in the admin's Meetings is the row's
    # error. A file without the column leaves it as it is.
    convention_meeting = fields.Field(
        attribute="convention_meeting",
        column_name="convention_meeting",
        widget=MeetingWidget(Meeting, "code"),
    )
    delegation_fr = fields.Field(column_name="delegation_fr", readonly=True)
    delegation_es = fields.Field(column_name="delegation_es", readonly=True)

    class Meta:
        model = Statement
        import_id_fields = ["slug"]
        instance_loader_class = CachedInstanceLoader
        # The shape of the files written before delegations were their own records: the
        # delegation's other languages where its text's versions were.
        fields = [
            "slug",
            "title",
            "delegation",
            "code",
            "meeting",
            "convention_meeting",
            "place",
            "date",
            "language",
            "source_url",
            "text",
            *columns("title", OTHER_LANGUAGES),
            "delegation_fr",
            "delegation_es",
            *columns("meeting", OTHER_LANGUAGES),
            *columns("place", OTHER_LANGUAGES),
        ]
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def get_queryset(self):
        return Statement.objects.select_related("delegation__state")

    def dehydrate_code(self, statement):
        return statement.delegation.code if statement.delegation_id else ""

    def dehydrate_delegation_fr(self, statement):
        return version(statement.delegation, "name", "fr") if statement.delegation_id else ""

    def dehydrate_delegation_es(self, statement):
        return version(statement.delegation, "name", "es") if statement.delegation_id else ""

    def import_instance(self, instance, row, **kwargs):
        """The delegation from its name or its code, whichever the row gives; both given,
        they must name the same one."""
        widget = self.fields["delegation"].widget
        name, code = (str(row.get(column) or "").strip() for column in ("delegation", "code"))
        errors = {}
        found = {}
        for column, text in (("delegation", name), ("code", code)):
            try:
                found[column] = widget.clean(text)
            except ValueError as error:
                errors["delegation"] = ValidationError(str(error))
        both = not errors and found.get("delegation") and found.get("code")
        if both and found["delegation"] != found["code"]:
            errors["delegation"] = ValidationError(
                _(
                    "“%(name)s” and the code “%(code)s” are two different delegations "
                    "(%(other)s). Give one, or make them agree."
                )
                % {"name": name, "code": code, "other": found["code"].code}
            )
        if errors:
            raise ValidationError(errors)
        if not name and found.get("code"):
            row["delegation"] = found["code"].code
        super().import_instance(instance, row, **kwargs)


class CommitmentResource(BoundedResource):
    statement = fields.Field(
        attribute="statement",
        column_name="statement",
        widget=CachedForeignKeyWidget(Statement, field="slug"),
    )
    theme = fields.Field(
        attribute="theme",
        column_name="theme",
        widget=CachedForeignKeyWidget(Theme, "slug"),
    )
    articles = ImportedManyToManyField(
        attribute="articles",
        column_name="articles",
        widget=CachedManyToManyWidget(Article, separator=",", field="number"),
    )
    owner = fields.Field(
        attribute="owner",
        column_name="owner",
        widget=CachedForeignKeyWidget(get_user_model(), "username"),
    )

    class Meta:
        model = Commitment
        import_id_fields = ["reference"]
        instance_loader_class = CachedInstanceLoader
        fields = with_versions(
            Commitment,
            [
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
                "reading",
                "criteria",
            ],
        )
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


def file_too_large_message(size):
    limit = settings.IMPORT_MAX_BYTES
    return (
        ngettext(
            "This file is %(size)s bytes; an import takes at most %(limit)s byte.",
            "This file is %(size)s bytes; an import takes at most %(limit)s bytes.",
            limit,
        )
        % {"size": f"{size:,}", "limit": f"{limit:,}"}
        + " "
        + _("Split it into smaller files and import them one after the other.")
    )
