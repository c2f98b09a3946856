"""The admin of the states and their treaty record (issue 14).

States are reference data: staff may change a state's region, never its country, and may not
delete a state that has treaty events. Treaty events are append-only: staff record them, one
at a time or from the depositary's participant table (commitments/depositary.py); a recorded
event is read-only and a mistaken one is replaced by a correction, which counts from when it
is recorded (commitments/reach.py).
"""

import base64
import binascii
import unicodedata

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, translation
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from . import depositary
from .changes import public_data_changed
from .models import State, TreatyEvent
from .resources import file_too_large_message
from .treaty import SIGNATORY, STATE_PARTY

STATUS_LABELS = {
    STATE_PARTY: _("State Party"),
    SIGNATORY: _("Signatory"),
}


def countries_matching(term):
    """The ISO codes whose name, in any of the site's languages (accents and case aside),
    contains `term`, or that are `term` itself (NO, nor), or that the depositary calls so
    (Viet Nam). The one home of "a state by its name" in the admin's search boxes."""
    term = depositary.normalise(term)
    if not term:
        return set()
    codes = set(State.objects.values_list("country", flat=True))
    found = {code for code in codes if code.casefold() == term}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            found |= {code for code in codes if term in depositary.normalise(countries.name(code))}
    found |= {
        code
        for alias, code in depositary.ALIASES.items()
        if code in codes and term in depositary.normalise(alias)
    }
    return found


class CountrySearchMixin:
    """The admin's search box finds states by name (names are not stored: django-countries
    gives them from the code) as well as by the model's search_fields. `country_lookup`: the
    path from the model to a State's country (a statement: delegation__state__country)."""

    country_lookup = "country"

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        codes = countries_matching(search_term)
        if codes:
            results = results | queryset.filter(**{f"{self.country_lookup}__in": codes})
        return results, duplicates


def by_name(states):
    """States in the order of their names in the active language (accents aside)."""

    def key(state):
        name = unicodedata.normalize("NFKD", str(state.name))
        return "".join(c for c in name if not unicodedata.combining(c)).casefold()

    return sorted(states, key=key)


def source_link(event):
    if event.source_url:
        return format_html(
            '<a href="{}" rel="noopener noreferrer">{}</a>',
            event.source_url,
            event.notification or gettext("depositary's record"),
        )
    return event.notification


def correction_of(event):
    """The entry that corrects `event`, or None."""
    try:
        return event.corrected_by
    except ObjectDoesNotExist:
        return None


# --- States -------------------------------------------------------------------------------


class TreatyEventInline(admin.TabularInline):
    """A state's events, to read; recording happens on the treaty events' own pages."""

    model = TreatyEvent
    fk_name = "state"
    verbose_name_plural = _("Treaty events (read-only; a mistake is replaced by a correction)")
    fields = ["kind", "date", "armed_conflict_ends", "source", "counts", "recorded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("corrected_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("source"))
    def source(self, event):
        return source_link(event)

    @admin.display(description=_("counts"))
    def counts(self, event):
        return counts_label(event)


def counts_label(event):
    correction = correction_of(event)
    if correction is None:
        return gettext("Yes")
    return format_html(
        '{} <a href="{}">{}</a>',
        gettext("No: corrected by"),
        reverse("admin:commitments_treatyevent_change", args=[correction.pk]),
        correction,
    )


class RegionFilter(admin.SimpleListFilter):
    title = _("region")
    parameter_name = "region"

    def lookups(self, request, model_admin):
        return State._meta.get_field("region").choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.lookup: self.value()})
        return queryset

    lookup = "region"


@admin.register(State)
class StateAdmin(CountrySearchMixin, admin.ModelAdmin):
    list_display = ["name", "code", "region", "events"]
    list_filter = [RegionFilter]
    search_fields = ["country"]
    inlines = [TreatyEventInline]
    readonly_fields = ["record_links"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(event_count=Count("treaty_events"))

    def get_fields(self, request, obj=None):
        return ["country", "region", "record_links"] if obj else ["country", "region"]

    def get_readonly_fields(self, request, obj=None):
        # Its country is what the state is: a wrong one is another state, never an edit.
        return ["country", "record_links"] if obj else []

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.treaty_events.exists():
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("name"))
    def name(self, state):
        return state.name

    @admin.display(description=_("code"), ordering="country")
    def code(self, state):
        return state.country.code

    @admin.display(description=_("treaty events"), ordering="event_count")
    def events(self, state):
        return state.event_count

    @admin.display(description=_("treaty record"))
    def record_links(self, state):
        events = reverse("admin:commitments_treatyevent_changelist")
        add = reverse("admin:commitments_treatyevent_add")
        return format_html(
            '<a href="{}?state={}">{}</a> · <a href="{}?state={}">{}</a>',
            events,
            state.pk,
            gettext("Its treaty events"),
            add,
            state.pk,
            gettext("Record a treaty event for this state"),
        )


# --- Treaty events ------------------------------------------------------------------------


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        states = State.objects.filter(treaty_events__isnull=False).distinct()
        return [(str(state.pk), state.name) for state in by_name(states)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(state_id=self.value())
        return queryset


class EventRegionFilter(RegionFilter):
    lookup = "state__region"


class CountsFilter(admin.SimpleListFilter):
    title = _("counts")
    parameter_name = "counts"

    def lookups(self, request, model_admin):
        return [("yes", _("Counts")), ("corrected", _("Corrected"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(corrected_by__isnull=True)
        if self.value() == "corrected":
            return queryset.filter(corrected_by__isnull=False)
        return queryset


class TreatyEventForm(forms.ModelForm):
    class Meta:
        model = TreatyEvent
        fields = [
            "state",
            "kind",
            "date",
            "armed_conflict_ends",
            "notification",
            "source_url",
            "corrects",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        state = self.fields.get("state")
        if state is not None:
            # By name in the staff member's language, not by ISO code.
            state.choices = [("", "---------")] + [
                (s.pk, s.name) for s in by_name(State.objects.all())
            ]


@admin.register(TreatyEvent)
class TreatyEventAdmin(CountrySearchMixin, admin.ModelAdmin):
    form = TreatyEventForm
    country_lookup = "state__country"
    list_display = [
        "state",
        "kind",
        "date",
        "armed_conflict_ends",
        "source",
        "counts",
        "recorded_at",
        "recorded_by",
    ]
    list_filter = ["kind", EventRegionFilter, StateFilter, CountsFilter]
    search_fields = ["notification"]
    list_select_related = ["state", "recorded_by", "corrected_by"]
    raw_id_fields = ["corrects"]
    date_hierarchy = "date"
    fields = [
        "state",
        "kind",
        "date",
        "armed_conflict_ends",
        "notification",
        "source_url",
        "corrects",
    ]

    # Append-only: recorded events are read, never changed or deleted.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return [*self.fields, "source", "counts", "recorded_at", "recorded_by"]

    def get_readonly_fields(self, request, obj=None):
        return ["source", "counts", "recorded_at", "recorded_by"] if obj else []

    @admin.display(description=_("source"))
    def source(self, event):
        return source_link(event)

    @admin.display(description=_("counts"))
    def counts(self, event):
        return counts_label(event)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "state" and formfield is not None:
            # States are reference data: no adding, changing or deleting one from here.
            widget = formfield.widget
            widget.can_add_related = widget.can_change_related = False
            widget.can_delete_related = widget.can_view_related = False
        return formfield

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        corrected = TreatyEvent.objects.filter(pk=request.GET.get("corrects") or None).first()
        if corrected is not None:
            # A correction starts as a copy of the mistaken entry: change what was wrong.
            initial.update(
                state=corrected.state_id,
                kind=corrected.kind,
                date=corrected.date,
                armed_conflict_ends=corrected.armed_conflict_ends,
                notification=corrected.notification,
                source_url=corrected.source_url,
                corrects=corrected.pk,
            )
        return initial

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_add_permission(request):
            correction = correction_of(obj)
            if correction is None:
                context["correction_url"] = (
                    reverse("admin:commitments_treatyevent_add") + f"?corrects={obj.pk}"
                )
        if add:
            context["correcting"] = TreatyEvent.objects.filter(
                pk=context["adminform"].form["corrects"].value() or None
            ).first()
        if add and self.has_add_permission(request):
            context["import_url"] = reverse("admin:commitments_treatyevent_import_depositary")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
        public_data_changed()

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if self.has_add_permission(request):
            extra_context["import_url"] = reverse("admin:commitments_treatyevent_import_depositary")
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "import-depositary/",
                self.admin_site.admin_view(self.import_view),
                name="commitments_treatyevent_import_depositary",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """The depositary's participant table: upload, preview (nothing written), confirm
        (everything written, or nothing if a row has an error)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        status, preview, confirm, lost = 200, None, None, False
        upload = DepositaryUploadForm()
        if request.method == "POST" and "confirm" in request.POST:
            confirm = DepositaryConfirmForm(request.POST)
            if not confirm.is_valid():
                status, confirm, lost = 422, None, True
            else:
                data = confirm.cleaned_data
                result = depositary.apply(
                    data["table"], data["source_url"], data["notification"], by=request.user
                )
                if not result.errors:
                    self.message_user(request, depositary.summary(result), messages.SUCCESS)
                    return redirect("admin:commitments_treatyevent_changelist")
                # The record moved since the preview: show what is now in the way.
                preview, status = result, 422
        elif request.method == "POST":
            upload = DepositaryUploadForm(request.POST, request.FILES)
            if upload.is_valid():
                data = upload.cleaned_data
                preview = depositary.plan(data["table"], data["source_url"], data["notification"])
                confirm = DepositaryConfirmForm(
                    initial={
                        "table": upload.encoded,
                        "source_url": data["source_url"],
                        "notification": data["notification"],
                    }
                )
            else:
                status = 422
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import the depositary's participant table"),
            "opts": self.model._meta,
            "upload": upload,
            "lost": lost,
            "preview": preview,
            "rows": _preview_rows(preview) if preview else [],
            "confirm": confirm if preview is not None and not preview.errors else None,
            "source_url": depositary.SOURCE_URL,
            "max_bytes": settings.IMPORT_MAX_BYTES,
        }
        return TemplateResponse(
            request, "admin/commitments/treatyevent/import_depositary.html", context, status=status
        )


def _standing_label(standing):
    if standing is None:
        return ""
    if standing.status in STATUS_LABELS:
        text = gettext("%(status)s since %(date)s") % {
            "status": STATUS_LABELS[standing.status],
            "date": formats.date_format(standing.since),
        }
    else:
        text = gettext("Neither State Party nor signatory")
    if standing.pending is not None:
        pending = (
            gettext("its withdrawal takes effect on %(date)s")
            if standing.status == STATE_PARTY
            else gettext("State Party from %(date)s")
        )
        text += " · " + pending % {"date": formats.date_format(standing.pending)}
    return text


def _preview_rows(result):
    return [
        {
            "row": row,
            "state_url": reverse("admin:commitments_state_change", args=[row.state.pk])
            if row.state
            else "",
            "standing": _standing_label(row.standing),
        }
        for row in result.rows
    ]


class DepositaryUploadForm(forms.Form):
    table = forms.FileField(
        label=_("Participant table"),
        help_text=_(
            "The depositary's table saved as tab-separated (or comma-separated) UTF-8 text, "
            "its first line naming the columns participant, signature, "
            "provisional_application and deposit."
        ),
    )
    source_url = forms.URLField(
        label=_("Source URL"),
        max_length=500,
        required=False,
        initial=depositary.SOURCE_URL,
        help_text=_("Where the table is published; each event recorded from it cites it."),
    )
    notification = forms.CharField(
        label=_("Depositary notification"),
        max_length=60,
        required=False,
        help_text=_("Optional: the notification's number, e.g. C.N.123.2011.TREATIES-XXVI.6."),
    )

    encoded = ""

    def clean_table(self):
        upload = self.cleaned_data["table"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise ValidationError(file_too_large_message(upload.size))
        data = upload.read()
        try:
            table = depositary.read_table(data)
        except depositary.TableError as error:
            raise ValidationError(str(error)) from None
        self.encoded = base64.b64encode(data).decode("ascii")
        return table

    def clean(self):
        data = super().clean()
        if not data.get("source_url") and not (data.get("notification") or "").strip():
            raise ValidationError(
                gettext("Give the source: the depositary notification's number, a link, or both.")
            )
        return data


class DepositaryConfirmForm(forms.Form):
    """The previewed table, carried to the confirmation as it was uploaded, and read again."""

    table = forms.CharField(widget=forms.HiddenInput)
    source_url = forms.URLField(max_length=500, required=False, widget=forms.HiddenInput)
    notification = forms.CharField(max_length=60, required=False, widget=forms.HiddenInput)

    def clean_table(self):
        try:
            data = base64.b64decode(self.cleaned_data["table"], validate=True)
            return depositary.read_table(data)
        except (binascii.Error, depositary.TableError) as error:
            raise ValidationError(str(error)) from None

    def clean(self):
        data = super().clean()
        if not data.get("source_url") and not (data.get("notification") or "").strip():
            raise ValidationError("no source")
        return data
