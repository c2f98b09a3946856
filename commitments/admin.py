from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.forms import formset_factory
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import get_language_info, ngettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV
from import_export.forms import ImportForm
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline
from simple_history.admin import SimpleHistoryAdmin

from .admin_treaty import CountrySearchMixin
from .content import sorted_by_name
from .forms import (
    FOLLOW_UP_FIELDS,
    BulkFollowUpForm,
    ConfirmForm,
    ProposalForm,
    ProposalPublishForm,
    StatesField,
    follow_up_initial,
    state_choices,
)
from .models import (
    STATEMENT_LANGUAGES,
    Article,
    Commitment,
    Delegation,
    FollowUp,
    Meeting,
    ProposedFollowUp,
    ReplySubmission,
    Review,
    StaleVersion,
    Statement,
    Status,
    Theme,
)
from .proposals import propose
from .quotes import quote_error
from .records import NOTE_VERSIONS, changed, claim_version, submit_follow_up
from .resources import CommitmentResource, StatementResource, file_too_large_message
from .translation import TRANSLATED, columns

# A commitment's state is read from properties (models.py), named in the admin's columns and
# read-only fields: in the reader's language, like the model fields' verbose names.
for _name, _label in {
    "status": _("status"),
    "progress": _("progress"),
    "last_follow_up_on": _("last follow up on"),
}.items():
    getattr(Commitment, _name).fget.short_description = _label


class BoundedImportForm(ImportForm):
    """The import form refuses a file over settings.IMPORT_MAX_BYTES before reading it."""

    def clean_import_file(self):
        import_file = self.cleaned_data["import_file"]
        if import_file.size > settings.IMPORT_MAX_BYTES:
            raise ValidationError(file_too_large_message(import_file.size))
        return import_file


class PublicDataAdmin(TranslationAdmin):
    """Admin pages that change public data: after each save or delete, the derived copies
    are brought up to date and the cached public pages outdated, once, on commit. Each
    translatable field (commitments/translation.py) shows its English, French and Spanish
    versions side by side (django-modeltranslation)."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        changed()


class AuditedAdmin(PublicDataAdmin, SimpleHistoryAdmin):
    """Who changed what and when, with the diff, on each item's History page.

    The history is for reading: simple-history's revert form would save an old copy
    without the checks of the change form, so posting to it is refused.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class StatementFilter(admin.RelatedFieldListFilter):
    """The statements by name, their delegations read with them: one query, not one a
    statement."""

    def field_choices(self, field, request, model_admin):
        rows = Statement.objects.select_related("delegation__state").defer("text")
        return [(statement.pk, str(statement)) for statement in rows]


class OverdueFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue for review")), ("current", _("Not overdue"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.overdue(today)
        if self.value() == "current":
            return queryset.exclude(next_review__lt=today)
        return queryset


class PastFollowUpInline(admin.TabularInline):
    """The history, read-only: follow-ups are never edited or deleted."""

    model = FollowUp
    verbose_name_plural = _("History (read-only; a correction is a new follow-up)")
    fields = [
        "happened_on",
        "status",
        "progress",
        "public_note",
        "internal_note",
        "evidence_url",
        "concerned_states",
        "author",
        "recorded_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("states")

    @admin.display(description=_("states concerned"))
    def concerned_states(self, obj):
        return ", ".join(str(state) for state in sorted_by_name(obj.states.all())) or "—"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NewFollowUpForm(forms.ModelForm):
    states = StatesField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["states"].choices = state_choices()

    class Meta:
        model = FollowUp
        fields = [
            "status",
            "progress",
            "happened_on",
            "public_note",
            "internal_note",
            "evidence_url",
            "evidence_label",
            "states",
        ]


class NewFollowUpInline(TranslationStackedInline):
    """One blank follow-up on the commitment's page; saved through submit_follow_up()."""

    model = FollowUp
    form = NewFollowUpForm
    verbose_name = _("new follow-up")
    verbose_name_plural = _("Record a follow-up")
    extra = 1
    max_num = 1
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None):
        return obj is not None and super().has_add_permission(request, obj)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["happened_on"].initial = timezone.localdate
        if obj is not None:
            # It starts on the current verdict: sent with a note only, it changes none.
            for name, value in follow_up_initial(obj).items():
                formset.form.base_fields[name].initial = value
        return formset


class CommitmentAdminForm(forms.ModelForm):
    """The commitment edit form carries the version it was opened on (no lost updates)."""

    based_on_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Commitment
        fields = [
            "statement",
            "reference",
            "title",
            "quote",
            "theme",
            "kind",
            "articles",
            "weight",
            "owner",
            "next_review",
            "published",
        ]

    # Set by CommitmentAdmin when saving was refused: the StaleVersion raised by claim_version.
    conflict = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["based_on_version"].initial = self.instance.version
        if "statement" in self.fields:  # named by their delegations: read with them
            self.fields["statement"].queryset = Statement.objects.select_related(
                "delegation__state"
            ).defer("text")

    def clean(self):
        data = super().clean()
        # The version itself is checked once, when saving (records.claim_version). A form
        # that carries none is no edit made from an older page: invalid (200), not a conflict.
        missing = self.instance.pk is not None and data.get("based_on_version") is None
        if self.conflict is not None or missing:
            current = Commitment.objects.get(pk=self.instance.pk)
            # Keep everything typed, but base the kept form on the current version, so
            # saving it again is a deliberate choice made after seeing what changed.
            self.data = self.data.copy()
            self.data["based_on_version"] = current.version
            based_on = self.conflict.based_on_version if self.conflict is not None else 0
            raise ValidationError(conflict_message(current, based_on or 0))
        return data


def conflict_message(commitment, based_on):
    changes = commitment.changes_since(based_on)
    lines = [
        _(
            "Not saved: %(ref)s was changed by someone else after you opened this page. "
            "Your changes are kept below; check them against what changed, then save again."
        )
        % {"ref": commitment.reference}
    ]
    for edit in changes.edits:
        lines.append(
            _("Changed meanwhile%(by)s — %(field)s: %(old)s → %(new)s")
            % {
                "by": f" ({', '.join(map(str, changes.editors))})" if changes.editors else "",
                "field": capfirst(edit.field),
                "old": edit.old,
                "new": edit.new,
            }
        )
    for follow_up in changes.follow_ups:
        lines.append(
            _("Follow-up recorded meanwhile — %(date)s: %(status)s by %(author)s. %(note)s")
            % {
                "date": follow_up.happened_on,
                "status": follow_up.get_status_display(),
                "author": follow_up.author,
                "note": follow_up.public_note,
            }
        )
    return lines


@admin.register(Commitment)
class CommitmentAdmin(CountrySearchMixin, ImportExportMixin, AuditedAdmin):
    form = CommitmentAdminForm
    resource_classes = [CommitmentResource]
    formats = [CSV]
    import_form_class = BoundedImportForm
    list_display = [
        "reference",
        "title",
        "theme",
        "status",
        "last_follow_up_on",
        "next_review",
        "owner",
        "published",
    ]
    list_filter = [
        "theme",
        "state__status",
        ("statement", StatementFilter),
        OverdueFilter,
        "published",
        "kind",
    ]
    # Every language's version, by column (a bare name would search the staff's language only).
    search_fields = ["reference", *columns("title"), "quote"]
    country_lookup = "statement__delegation__state__country"  # by the state that made it
    list_select_related = ["theme", "owner", "statement__delegation__state"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["articles"]
    readonly_fields = ["status", "progress", "last_follow_up_on", "created_at"]
    actions = ["bulk_follow_up"]
    fieldsets = [
        (None, {"fields": ["statement", "reference", "title", "quote", "theme", "kind"]}),
        (
            _("Tracking"),
            {
                "fields": [
                    "articles",
                    "weight",
                    "owner",
                    "next_review",
                    "published",
                    "based_on_version",
                ]
            },
        ),
        (_("Assessment"), {"fields": ["reading", "criteria"]}),
        (
            _("Current state (from the follow-ups)"),
            {"fields": ["status", "progress", "last_follow_up_on", "created_at"]},
        ),
    ]

    def get_inlines(self, request, obj):
        return [NewFollowUpInline, PastFollowUpInline] if obj else []

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.was_published():
            # Its reference is the address people cite: it never changes once published.
            return ["reference", *fields]
        return fields

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if (
            obj is not None
            and obj.status != Status.NOT_ASSESSED
            and self.has_add_followup_permission(request)
        ):
            context["confirm_url"] = reverse("admin:commitments_commitment_confirm", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/confirm/",
                self.admin_site.admin_view(self.confirm_view),
                name="commitments_commitment_confirm",
            ),
            *super().get_urls(),
        ]

    def confirm_view(self, request, object_id):
        """Confirm, no change: the current verdict again, today, with what was checked."""
        if not self.has_add_followup_permission(request):
            raise PermissionDenied
        commitment = self.get_object(request, unquote(object_id))
        if commitment is None:
            raise Http404
        change_url = reverse("admin:commitments_commitment_change", args=[commitment.pk])
        conflict, status = None, 200
        if request.method == "POST":
            form = ConfirmForm(request.POST, commitment=commitment)
            status = 422
            if form.is_valid():
                try:
                    follow_up = form.record(by=request.user)
                except StaleVersion:
                    based_on = form.cleaned_data["version"]
                    commitment.refresh_from_db()
                    commitment.forget_state()
                    conflict = conflict_message(commitment, based_on)
                    form, status = form.rebased(), 409
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    self.message_user(
                        request,
                        _("Confirmed “%(status)s” on %(ref)s, as checked today.")
                        % {"status": follow_up.get_status_display(), "ref": commitment.reference},
                        messages.SUCCESS,
                    )
                    return redirect(change_url)
        else:
            form = ConfirmForm(commitment=commitment)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Confirm, no change: %(ref)s") % {"ref": commitment.reference},
            "opts": self.model._meta,
            "original": commitment,
            "commitment": commitment,
            "latest": commitment.follow_ups.timeline().select_related("author").first(),
            "form": form,
            "conflict": conflict,
            "change_url": change_url,
        }
        return TemplateResponse(
            request, "admin/commitments/commitment/confirm.html", context, status=status
        )

    def get_queryset(self, request):
        return super().get_queryset(request).as_of()  # today's state, in the same query

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        conflict = getattr(request, "commitment_conflict", None)
        if conflict is None:
            return form
        return type(form.__name__, (form,), {"conflict": conflict})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StaleVersion as conflict:
            # The commitment moved since this form was opened: the transaction rolled back.
            # The form comes back with everything typed and what changed meanwhile.
            request.commitment_conflict = conflict
            response = super().changeform_view(request, object_id, form_url, extra_context)
            response.status_code = 409
            return response

    def save_model(self, request, obj, form, change):
        if change:
            # The one version check (records.claim_version), inside the admin's transaction.
            claim_version(obj, form.cleaned_data["based_on_version"])
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        if formset.model is not FollowUp:
            return super().save_formset(request, form, formset, change)
        # The admin's change message reads these lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if inline_form.has_changed() and inline_form.cleaned_data:
                data = inline_form.cleaned_data
                follow_up = submit_follow_up(
                    form.instance,
                    by=request.user,
                    **{
                        name: data[name]
                        for name in FOLLOW_UP_FIELDS
                        if name not in TRANSLATED[FollowUp]
                    },
                    # The side-by-side language versions (TranslationStackedInline).
                    public_note=data.get("public_note_en") or "",
                    evidence_label=data.get("evidence_label_en") or "",
                    versions={name: data.get(name) for name in NOTE_VERSIONS},
                    states=data.get("states") or (),
                )
                formset.new_objects.append(follow_up)
                if isinstance(follow_up, ProposedFollowUp):
                    self.message_user(request, sent_for_review_message(follow_up), messages.INFO)
        return None

    def has_add_followup_permission(self, request):
        return request.user.has_perm("commitments.add_followup")

    @admin.action(
        description=_("Record the same follow-up on the selected commitments"),
        permissions=["add_followup"],
    )
    def bulk_follow_up(self, request, queryset):
        """An intermediate form; then one follow-up each, all or nothing."""
        commitments = list(queryset.select_related("theme").order_by("reference"))
        if "apply" not in request.POST:
            form = BulkFollowUpForm(
                initial={"happened_on": timezone.localdate()}, commitments=commitments
            )
            return self._bulk_page(request, form, commitments)
        form = BulkFollowUpForm(request.POST, commitments=commitments)
        if not form.is_valid():
            return self._bulk_page(request, form, commitments)
        data = {name: form.cleaned_data[name] for name in FOLLOW_UP_FIELDS}
        data["versions"] = {name: form.cleaned_data[name] for name in NOTE_VERSIONS}
        problems, proposed = [], []
        with transaction.atomic():
            for commitment in commitments:
                try:
                    based_on = int(request.POST.get(f"version-{commitment.pk}", ""))
                except ValueError:
                    based_on = -1
                try:
                    entry = submit_follow_up(
                        commitment, by=request.user, based_on_version=based_on, **data
                    )
                    if isinstance(entry, ProposedFollowUp):
                        proposed.append(commitment)
                except StaleVersion:
                    problems.append(
                        (commitment, [_("it was changed by someone else since this page opened")])
                    )
                except ValidationError as error:
                    problems.append((commitment, error.messages))
            if problems:
                transaction.set_rollback(True)
        if problems:
            for commitment in commitments:
                commitment.refresh_from_db()
            form.add_error(
                None,
                ngettext(
                    "Nothing was recorded: %(n)d commitment cannot take this follow-up.",
                    "Nothing was recorded: %(n)d commitments cannot take this follow-up.",
                    len(problems),
                )
                % {"n": len(problems)},
            )
            return self._bulk_page(request, form, commitments, problems)
        self.message_user(
            request,
            ngettext(
                "Recorded the follow-up on %(n)d commitment: %(refs)s.",
                "Recorded the follow-up on each of %(n)d commitments: %(refs)s.",
                len(commitments),
            )
            % {"n": len(commitments), "refs": ", ".join(c.reference for c in commitments)},
            messages.SUCCESS,
        )
        if proposed:
            self.message_user(
                request,
                ngettext(
                    "%(n)d of them changes a status and is sent for a second review: it will "
                    "be public once another editor confirms it (%(refs)s).",
                    "%(n)d of them change a status and are sent for a second review: they "
                    "will be public once another editor confirms them (%(refs)s).",
                    len(proposed),
                )
                % {"n": len(proposed), "refs": ", ".join(c.reference for c in proposed)},
                messages.INFO,
            )
        return None

    def _bulk_page(self, request, form, commitments, problems=()):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record a follow-up on several commitments"),
            "opts": self.model._meta,
            "form": form,
            "commitments": commitments,
            "problems": problems,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request,
            "admin/commitments/commitment/bulk_follow_up.html",
            context,
            status=422 if form.errors else 200,
        )


class ShownOnlyForm(forms.ModelForm):
    """An inline row that shows a commitment and edits nothing: its rules (the quote must
    occur in the statement) are the statement form's to check, with a message naming the
    commitments, not the row's (which has no quote field to carry the error: a 500 before)."""

    def _post_clean(self):
        pass


class CommitmentInline(admin.TabularInline):
    model = Commitment
    form = ShownOnlyForm
    fields = ["reference", "title", "theme", "status", "published"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


def _language_choices(current):
    """The tracker's own languages first, then every other language a statement may be in,
    by name; a stored code the tracker does not know stays shown (saving then says why)."""

    def choice(code):
        return code, f"{get_language_info(code)['name_translated']} ({code})"

    ours = [code for code, _name in settings.LANGUAGES]
    others = sorted(
        (choice(code) for code in STATEMENT_LANGUAGES - set(ours)), key=lambda c: c[1].lower()
    )
    choices = [
        (_("Languages of this tracker"), [choice(code) for code in ours]),
        (_("Other languages"), others),
    ]
    if current and current not in STATEMENT_LANGUAGES:
        choices.insert(0, (current, current))
    return choices


class StatementAdminForm(forms.ModelForm):
    """A statement's text may be corrected, never so that a commitment's quote stops being
    in it word for word. Its language is chosen from a list (Statement.clean checks it)."""

    class Meta:
        model = Statement
        fields = [
            "title",
            "slug",
            "delegation",
            "meeting",
            "convention_meeting",
            "place",
            "date",
            "language",
            "source_url",
            "text",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "language" in self.fields:  # not for a viewer: every field is read-only then
            current = self["language"].value()
            self.fields["language"].widget = forms.Select(choices=_language_choices(current))

    def clean_text(self):
        text = self.cleaned_data["text"]
        if self.instance.pk is not None:
            orphaned = [
                reference
                for reference, quote in self.instance.commitments.order_by("reference").values_list(
                    "reference", "quote"
                )
                if quote_error(quote, text)
            ]
            if orphaned:
                raise ValidationError(
                    _(
                        "Not saved: these commitments quote words this text no longer has: "
                        "%(references)s. Keep their quotes word for word, or change the "
                        "commitments first."
                    )
                    % {"references": ", ".join(orphaned)}
                )
        return text


@admin.register(Statement)
class StatementAdmin(CountrySearchMixin, ImportExportMixin, AuditedAdmin):
    form = StatementAdminForm
    resource_classes = [StatementResource]
    formats = [CSV]
    import_form_class = BoundedImportForm
    list_display = ["title", "delegation", "convention_meeting", "place", "date", "language"]
    list_filter = ["delegation__kind", "convention_meeting", "language"]
    list_select_related = ["delegation__state", "convention_meeting"]
    search_fields = [
        *columns("title"),
        *(f"delegation__{column}" for column in columns("name")),
        "delegation__code",
        "delegation__state__country",
        *columns("meeting"),
        "text",
    ]
    country_lookup = "delegation__state__country"  # a state delegation by its name
    autocomplete_fields = ["delegation"]
    prepopulated_fields = {"slug": ["title", "date"]}
    date_hierarchy = "date"
    inlines = [CommitmentInline]
    readonly_fields = ["proposals_link"]

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "proposals_link"]
        return [*fields, "proposals_link"] if obj else fields

    @admin.display(description=_("Commitments in the text"))
    def proposals_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:commitments_statement_propose", args=[obj.pk]),
            _("Find candidate commitments in this text"),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/propose/",
                self.admin_site.admin_view(self.propose_view),
                name="commitments_statement_propose",
            ),
            *super().get_urls(),
        ]

    def response_add(self, request, obj, post_url_continue=None):
        # Pasting a new statement leads straight to the commitments found in it.
        if "_addanother" in request.POST or "_popup" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, _("Statement saved. Review the candidate commitments below."))
        return redirect("admin:commitments_statement_propose", obj.pk)

    def propose_view(self, request, pk):
        """Candidate commitments from the text: staff accept (edited if need be) or discard."""
        if not request.user.has_perm("commitments.add_commitment"):
            raise PermissionDenied
        statement = get_object_or_404(Statement, pk=pk)
        existing = list(statement.commitments.values_list("quote", flat=True))
        proposals = propose(statement.text, already_quoted=existing, language=statement.language)
        ProposalFormSet = formset_factory(ProposalForm, extra=0)
        if request.method == "POST":
            formset = ProposalFormSet(request.POST, prefix="p")
            publish_form = ProposalPublishForm(request.POST)
            if formset.is_valid() and publish_form.is_valid():
                created = self._accept_proposals(
                    request, statement, formset, publish_form.cleaned_data["publish"]
                )
                if created is not None:
                    self.message_user(
                        request,
                        ngettext(
                            "Created %(n)d commitment%(state)s: %(refs)s.",
                            "Created %(n)d commitments%(state)s: %(refs)s.",
                            len(created),
                        )
                        % {
                            "n": len(created),
                            "state": ""
                            if publish_form.cleaned_data["publish"]
                            else _(", unpublished"),
                            "refs": ", ".join(c.reference for c in created) or "—",
                        },
                        messages.SUCCESS,
                    )
                    return redirect("admin:commitments_statement_change", statement.pk)
        else:
            year = statement.date.year
            taken = set(Commitment.objects.values_list("reference", flat=True))
            initial, n = [], 0
            for proposal in proposals:
                n += 1
                while f"{statement.delegation.code}-{year}-{n:02d}" in taken:
                    n += 1
                initial.append(
                    {
                        "decision": ProposalForm.DISCARD,
                        "quote": proposal.sentence,
                        "reference": f"{statement.delegation.code}-{year}-{n:02d}",
                        "kind": "continuous" if proposal.looks_continuous else "one_off",
                    }
                )
            formset = ProposalFormSet(initial=initial, prefix="p")
            publish_form = ProposalPublishForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Candidate commitments in %(statement)s") % {"statement": statement},
            "opts": self.model._meta,
            "original": statement,
            "statement": statement,
            "formset": formset,
            "publish_form": publish_form,
            "existing_count": len(existing),
        }
        return TemplateResponse(
            request,
            "admin/commitments/statement/propose.html",
            context,
            status=422 if request.method == "POST" else 200,
        )

    def _accept_proposals(self, request, statement, formset, publish):
        """Create every accepted commitment, or none (errors go back on their forms)."""
        created, failed = [], False
        with transaction.atomic():
            for form in formset.forms:
                data = form.cleaned_data
                if data.get("decision") != ProposalForm.ACCEPT:
                    continue
                commitment = Commitment(
                    statement=statement,
                    theme=data["theme"],
                    reference=data["reference"],
                    title_en=data["title"],  # by column: not the staff's session language
                    quote=data["quote"],
                    kind=data["kind"],
                    published=publish,
                )
                try:
                    commitment.full_clean()
                except ValidationError as error:
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                    failed = True
                    continue
                commitment._history_user = request.user
                commitment.save()
                created.append(commitment)
            if failed:
                transaction.set_rollback(True)
                return None
        return created


class DelegationKindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return Delegation.Kind.choices

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class DelegationAdminForm(forms.ModelForm):
    class Meta:
        model = Delegation
        fields = ["kind", "state", "name", "code"]

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        kind, state = cleaned.get("kind"), cleaned.get("state")
        if kind == Delegation.Kind.STATE and state is None:
            self.add_error("state", _("Choose the state this delegation speaks for."))
        if kind == Delegation.Kind.ORGANISATION:
            if state is not None:
                self.add_error("state", _("An organisation is not a state: leave this empty."))
            if not (cleaned.get("name_en") or "").strip():
                self.add_error("name_en", _("Give the organisation's name in English."))
        return cleaned


@admin.register(Delegation)
class DelegationAdmin(CountrySearchMixin, AuditedAdmin):
    """Who makes statements: a state (its name from its country code, in every language) or
    an organisation (its name in each language)."""

    form = DelegationAdminForm
    list_display = ["code", "__str__", "kind", "country"]
    list_filter = [DelegationKindFilter]
    list_select_related = ["state"]
    search_fields = ["code", *columns("name"), "state__country"]
    country_lookup = "state__country"  # "Norway" (or "Norvège") finds it by its country code

    @admin.display(description=_("country code"), ordering="state__country")
    def country(self, obj):
        return obj.country_code


@admin.register(Theme)
class ThemeAdmin(AuditedAdmin):
    list_display = ["name", "position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = columns("name")


@admin.register(Article)
class ArticleAdmin(PublicDataAdmin):
    list_display = ["number", "title"]
    search_fields = columns("title")


@admin.register(Meeting)
class MeetingAdmin(AuditedAdmin):
    """The Convention's meetings: each page's "as at the close of a meeting" choices and the
    meeting report read them. Staff add each new one, with the page that records its dates;
    the name and place side by side in each language."""

    list_display = ["code", "name", "kind", "start", "end", "place"]
    list_filter = ["kind"]
    search_fields = ["code", *columns("name"), *columns("place")]
    date_hierarchy = "end"
    ordering = ["-end"]
    fields = ["code", "kind", "name", "place", "start", "end", "source_url"]


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    """The whole history across commitments, to read; recording happens on a commitment."""

    list_display = ["commitment", "happened_on", "status", "progress", "author", "recorded_at"]
    list_filter = ["status", "commitment__theme"]
    search_fields = ["commitment__reference", *columns("public_note"), "internal_note"]
    list_select_related = ["commitment", "author"]
    date_hierarchy = "happened_on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def sent_for_review_message(proposal):
    return _(
        "“%(status)s” on %(ref)s is sent for a second review: it will be public once another "
        "editor confirms it."
    ) % {"status": proposal.get_status_display(), "ref": proposal.commitment.reference}


class HistoryAdmin(admin.ModelAdmin):
    """History to read: never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProposedFollowUp)
class ProposedFollowUpAdmin(HistoryAdmin):
    """Follow-ups proposed for a second review; they are confirmed or sent back on
    /staff/review/."""

    list_display = ["commitment", "status_before", "status", "happened_on", "author", "proposed_at"]
    list_filter = ["status", "review__decision"]
    search_fields = ["commitment__reference", *columns("public_note"), "internal_note"]
    list_select_related = ["commitment", "author"]


@admin.register(Review)
class ReviewAdmin(HistoryAdmin):
    """Second reviewers' decisions, to read."""

    list_display = ["proposal", "decision", "reviewer", "reviewed_at"]
    list_filter = ["decision"]
    search_fields = ["proposal__commitment__reference", "note"]
    list_select_related = ["proposal__commitment", "reviewer"]


@admin.register(ReplySubmission)
class ReplySubmissionAdmin(HistoryAdmin):
    """Replies sent from the public pages, as sent, with the decision on each: to read (the
    moderators' queue is /staff/replies/, commitments/replies.py). Editors and administrators
    only: the sender's name and e-mail address are personal data."""

    list_display = ["commitment", "organisation", "submitted_at", "language", "outcome"]
    list_filter = ["decision__outcome", "language"]
    search_fields = ["commitment__reference", "organisation"]
    list_select_related = ["commitment", "decision"]
    date_hierarchy = "submitted_at"
    readonly_fields = [
        "outcome",
        "reason",
        "sender_verified",
        "decided_by",
        "decided_at",
        "sender_erased_at",
    ]

    @admin.display(description=_("decision"))
    def outcome(self, obj):
        decision = getattr(obj, "decision", None)
        return decision.get_outcome_display() if decision else _("waiting")

    def _decision(self, obj, name):
        decision = getattr(obj, "decision", None)
        return getattr(decision, name) if decision else "—"

    @admin.display(description=_("reason"))
    def reason(self, obj):
        return self._decision(obj, "reason")

    @admin.display(description=_("sender verified by staff"), boolean=True)
    def sender_verified(self, obj):
        decision = getattr(obj, "decision", None)
        return decision.sender_verified if decision else None

    @admin.display(description=_("decided by"))
    def decided_by(self, obj):
        return self._decision(obj, "decided_by")

    @admin.display(description=_("decided at"))
    def decided_at(self, obj):
        return self._decision(obj, "decided_at")


# --- Accounts: administrators manage staff, never beyond their own rights ----------------------


def _own_permissions(user):
    return Permission.objects.filter(Q(user=user) | Q(group__user=user)).distinct()


def _is_owner_autocomplete(request):
    """The commitment form's owner lookup, which editors need without seeing accounts."""
    match = request.resolver_match
    return (
        match is not None
        and match.url_name == "autocomplete"
        and request.GET.get("app_label") == "commitments"
        and request.GET.get("model_name") == "commitment"
        and request.GET.get("field_name") == "owner"
    )


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Only a superuser may make, change or remove a superuser, or give rights directly; an
    administrator puts accounts in groups holding no right the administrator lacks."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        hidden = {"is_superuser", "user_permissions"}
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in fieldsets
        ]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            beyond = Permission.objects.exclude(pk__in=_own_permissions(request.user))
            kwargs["queryset"] = Group.objects.exclude(permissions__in=beyond)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _guards_a_superuser(self, request, obj):
        """A superuser, or an account holding rights the editor lacks (editing it could
        only take them away unseen), is read-only to a non-superuser."""
        if obj is None or request.user.is_superuser:
            return False
        return (
            obj.is_superuser
            or _own_permissions(obj).exclude(pk__in=_own_permissions(request.user)).exists()
        )

    def has_change_permission(self, request, obj=None):
        if self._guards_a_superuser(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self._guards_a_superuser(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        if obj is None and _is_owner_autocomplete(request):
            return request.user.has_perm("commitments.change_commitment")
        return super().has_view_permission(request, obj)

    def get_search_results(self, request, queryset, search_term):
        if _is_owner_autocomplete(request):
            # Owners are staff; the lookup shows no other account.
            queryset = queryset.filter(is_staff=True, is_active=True)
        return super().get_search_results(request, queryset, search_term)


@admin.register(Group)
class RoleAdmin(GroupAdmin):
    """A group can be given only rights its editor holds (superusers: any)."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "permissions" and not request.user.is_superuser:
            kwargs["queryset"] = _own_permissions(request.user).select_related("content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _beyond_editor(self, request, obj):
        if obj is None or request.user.is_superuser:
            return False
        return obj.permissions.exclude(pk__in=_own_permissions(request.user)).exists()

    def has_change_permission(self, request, obj=None):
        if self._beyond_editor(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self._beyond_editor(request, obj):
            return False
        return super().has_delete_permission(request, obj)
