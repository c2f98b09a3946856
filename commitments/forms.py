import datetime
import functools

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.forms.utils import flatatt
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language_info, gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .content import LANGUAGE_CODES, localized, sort_key, version
from .models import (
    NOTE_MAX_LENGTH,
    STATUS_INFO,
    Article,
    Commitment,
    Delegation,
    FollowUp,
    Kind,
    StaffPreference,
    State,
    Statement,
    Status,
    Theme,
    Verdict,
    Viewpoint,
    progress_error,
)
from .records import NOTE_VERSIONS, add_translation, confirm_unchanged, submit_follow_up

FOLLOW_UP_FIELDS = [
    "status",
    "progress",
    "happened_on",
    "public_note",
    "internal_note",
    "evidence_url",
    "evidence_label",
]


def note_version_fields():
    """The note and evidence label in the other languages, for the staff forms: optional,
    side by side with the English ones ("What happened (public), in French")."""
    fields = {}
    for name in NOTE_VERSIONS:
        field, code = name.rsplit("_", 1)
        language = get_language_info(code)["name_translated"]
        if field == "public_note":
            fields[name] = forms.CharField(
                label=_("What happened (public), in %(language)s") % {"language": language},
                widget=forms.Textarea(attrs={"rows": 2, "lang": code}),
                required=False,
                max_length=NOTE_MAX_LENGTH,
            )
        else:
            fields[name] = forms.CharField(
                label=_("Evidence label, in %(language)s") % {"language": language},
                widget=forms.TextInput(attrs={"lang": code}),
                required=False,
                max_length=200,
            )
    return fields


def with_note_versions(fields):
    """`fields` with the other languages' note and label right after the English ones."""
    versions = note_version_fields()
    result = {}
    for name, field in fields.items():
        result[name] = field
        if name in ("public_note", "evidence_label"):
            field.widget.attrs["lang"] = settings.LANGUAGE_CODE
            result.update({n: f for n, f in versions.items() if n.startswith(f"{name}_")})
    return result


def follow_up_initial(commitment):
    """What a follow-up form starts on: the commitment's status now, and its progress figure
    where it is not the status's standard one. Sent untouched, the form changes no verdict
    (it used to start on "not yet assessed" and downgraded whatever it was sent on)."""
    status = commitment.status
    progress = commitment.progress
    if progress == STATUS_INFO[status].default_progress:
        progress = None
    return {"status": status.value, "progress": progress}


def state_choices():
    """(ISO code, name) of every state, sorted by name in the active language (the staff
    member's, on the staff pages and the admin). One query: a page of forms shares it."""
    named = [
        (code, str(countries.name(code)))
        for code in State.objects.values_list("country", flat=True)
    ]
    return sorted(named, key=lambda choice: sort_key(choice[1]))


class StatesSelect(forms.SelectMultiple):
    """A <select multiple> that writes its options in Python. Django's widget renders a
    template per option: with a staff page of 25 follow-up forms, each offering the 197
    states, that was some 5,000 template renders and most of the page's time (make bench,
    "/staff/ (logged in)"). Same markup, attributes and selection as SelectMultiple."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        attrs["multiple"] = True
        chosen = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (code, " selected" if str(code) in chosen else "", label)
                for code, label in self.choices
            ),
        )
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(attrs), options)


class StatesField(forms.MultipleChoiceField):
    """The states a follow-up concerns, chosen by name from a list that works without
    JavaScript (a <select multiple>); the form's value is the State rows."""

    widget = StatesSelect(attrs={"size": 8})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("States it concerns (optional)"))
        kwargs.setdefault(
            "help_text",
            _(
                "For a follow-up about particular states, e.g. a regional workshop for "
                "several signatories. Hold Ctrl (⌘ on a Mac) to choose more than one. "
                "Set with the follow-up, never changed after."
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        codes = super().clean(value)
        if not codes:
            return []
        return list(State.objects.filter(country__in=codes))


class FollowUpForm(forms.ModelForm):
    """A follow-up on one commitment; its status choices are those the commitment allows.

    It carries the commitment's version it was opened on, so a follow-up based on an
    out-of-date page is refused instead of silently landing on top of someone else's.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    states = StatesField()

    class Meta:
        model = FollowUp
        fields = FOLLOW_UP_FIELDS
        labels = {
            "happened_on": _("Date it happened"),
            "public_note": _("What happened (public)"),
            "internal_note": _("Internal note (staff only)"),
            "evidence_url": _("Evidence link"),
            "evidence_label": _("Evidence label"),
            "progress": _("Progress % (optional)"),
        }
        widgets = {
            "happened_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "public_note": forms.Textarea(attrs={"rows": 3}),
            "internal_note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, commitment, states=None, **kwargs):
        """`states`: state_choices(), when a page of forms shares one list."""
        kwargs.setdefault("prefix", f"c{commitment.pk}")
        super().__init__(*args, **kwargs)
        self.commitment = commitment
        self.instance.commitment = commitment
        self.fields["states"].choices = state_choices() if states is None else states
        self.fields["version"].initial = commitment.version
        allowed = {status.value for status in commitment.allowed_statuses}
        self.fields["status"].choices = [
            (value, label) for value, label in self.fields["status"].choices if value in allowed
        ]
        self.fields["happened_on"].required = True
        self.fields["happened_on"].initial = timezone.localdate
        for name, value in follow_up_initial(commitment).items():
            self.fields[name].initial = value
        self.fields = with_note_versions(self.fields)
        # Last: the rest of the form is the usual follow-up, this is the occasional extra.
        self.fields["states"] = self.fields.pop("states")

    def validate_constraints(self):
        """The database's check constraints repeat what the fields' validators and the
        model's clean() already check here (and the insert enforces them): no query each."""

    def record(self, by):
        """Record the follow-up, or keep it for a second review (records.submit_follow_up:
        a FollowUp or a ProposedFollowUp); raises StaleVersion if the commitment moved
        meanwhile."""
        data = {name: self.cleaned_data[name] for name in FOLLOW_UP_FIELDS}
        data["versions"] = {name: self.cleaned_data[name] for name in NOTE_VERSIONS}
        return submit_follow_up(
            self.commitment,
            by=by,
            based_on_version=self.cleaned_data["version"],
            states=self.cleaned_data["states"],
            **data,
        )

    def rebased(self):
        """The same typed values on a fresh form showing the commitment's current version."""
        data = self.data.copy()
        data[self.add_prefix("version")] = self.commitment.version
        return FollowUpForm(data, commitment=self.commitment, states=self.fields["states"].choices)


class ConfirmForm(forms.Form):
    """Confirm, no change, on one commitment: the same verdict again, dated today, with what
    was checked. Carries the version it was opened on, like FollowUpForm."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    public_note = forms.CharField(
        label=_("What you checked (public)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
    )
    evidence_url = forms.URLField(label=_("Evidence link"), required=False, max_length=500)

    def __init__(self, *args, commitment, **kwargs):
        kwargs.setdefault("prefix", f"k{commitment.pk}")
        super().__init__(*args, **kwargs)
        self.commitment = commitment
        self.fields["version"].initial = commitment.version

    def record(self, by):
        """Record the confirmation; raises StaleVersion if the commitment moved meanwhile, and
        ValidationError if it gives neither a note nor a link, or has no verdict to confirm
        (records.confirm_unchanged checks both)."""
        return confirm_unchanged(
            self.commitment,
            by=by,
            public_note=self.cleaned_data["public_note"],
            evidence_url=self.cleaned_data["evidence_url"],
            based_on_version=self.cleaned_data["version"],
        )

    def rebased(self):
        data = self.data.copy()
        data[self.add_prefix("version")] = self.commitment.version
        return ConfirmForm(data, commitment=self.commitment)


QUEUES = {
    "mine": _("Mine"),
    "review": _("Past review date"),
    "stale": _("Not checked recently"),
    "all": _("All"),
}


class StaffFilterForm(forms.Form):
    """The staff page's filters: a plain GET form, so every view of the work has a URL."""

    show = forms.ChoiceField(choices=list(QUEUES.items()), required=False)
    theme = forms.ModelChoiceField(
        Theme.objects.all(), to_field_name="slug", required=False, empty_label=_("Any theme")
    )
    status = forms.ChoiceField(choices=[("", _("Any status")), *Status.choices], required=False)
    owner = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The seed's theme names are in the catalogues, as on the public filters.
        self.fields["theme"].label_from_instance = lambda theme: gettext(theme.name)
        owners = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
        self.fields["owner"].choices = [
            ("", _("Anyone")),
            ("none", _("Nobody")),
            *((str(u.pk), u.get_full_name() or u.username) for u in owners),
        ]

    def filters(self):
        """The valid filters only: a mistyped value in a shared URL is ignored, not fatal."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "show": data.get("show") or "mine",
            "theme": data.get("theme"),
            "status": data.get("status") or "",
            "owner": data.get("owner") or "",
        }


class StaffLanguageForm(forms.ModelForm):
    """The language a staff member chose for the staff pages and the admin."""

    class Meta:
        model = StaffPreference
        fields = ["language"]
        labels = {"language": _("Language of the staff pages")}


class BulkFollowUpForm(forms.Form):
    """The same follow-up for several commitments at once (the admin's list action). It
    starts on the verdict they share, if they all share one; otherwise on no status at all,
    so that nobody changes several verdicts without choosing one."""

    status = forms.ChoiceField(
        choices=[("", _("Choose a status")), *Status.choices], label=_("Status")
    )
    progress = forms.IntegerField(
        min_value=0, max_value=100, required=False, label=_("Progress % (optional)")
    )
    happened_on = forms.DateField(
        label=_("Date it happened"), widget=forms.DateInput(attrs={"type": "date"})
    )
    public_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        label=_("What happened (public)"),
    )
    internal_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        label=_("Internal note (staff only)"),
    )
    evidence_url = forms.URLField(required=False, max_length=500, label=_("Evidence link"))
    evidence_label = forms.CharField(required=False, max_length=200, label=_("Evidence label"))

    def __init__(self, *args, commitments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = with_note_versions(self.fields)
        verdicts = {tuple(follow_up_initial(c).items()) for c in commitments}
        if len(verdicts) == 1:
            for name, value in verdicts.pop():
                self.fields[name].initial = value

    def clean(self):
        data = super().clean()
        status, progress = data.get("status"), data.get("progress")
        if status and (problem := progress_error(status, progress)):
            self.add_error("progress", problem)
        return data


class ProposalForm(forms.Form):
    """One candidate commitment found in a statement's text: accept, or discard."""

    ACCEPT, DISCARD = "accept", "discard"
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(DISCARD, _("Discard")), (ACCEPT, _("Accept as a commitment"))],
        widget=forms.RadioSelect,
        initial=DISCARD,
    )
    quote = forms.CharField(
        label=_("Quote"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 90}),
        help_text=_("Edit to the exact words that make the commitment; they must stay verbatim."),
    )
    title = forms.CharField(
        label=_("Title in English"),
        help_text=_("The French and Spanish titles are added on the commitment's admin page."),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"size": 80, "lang": "en"}),
    )
    reference = forms.SlugField(label=_("Reference"), max_length=40, required=False)
    theme = forms.ModelChoiceField(Theme.objects.all(), label=_("Theme"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.CONTINUOUS)

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.ACCEPT:
            for name in ("title", "reference", "theme"):
                if not data.get(name):
                    self.add_error(name, _("Needed to accept this commitment."))
        return data


class ProposalPublishForm(forms.Form):
    publish = forms.TypedChoiceField(
        choices=[
            ("0", _("Create them unpublished (staff only) — publish later from the admin")),
            ("1", _("Publish them now on the public dashboard")),
        ],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="0",
        label=_("Accepted commitments are"),
    )


class LanguageSelect(forms.Select):
    """A menu whose options may be in another language than the page's: such an option
    carries that language's lang (its label is a content.Labelled)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if lang := getattr(label, "lang", None):
            option["attrs"]["lang"] = lang
        return option


# What groups commitments by delegation in every breakdown (the dashboard's, the meeting
# report's): a field of Commitment, whose values are public_delegations()' keys.
DELEGATION_KEY = "statement__delegation__code"


def public_delegations():
    """The delegations whose statements hold a published commitment, by name in the page's
    language. Their key, in addresses and filters, is their code (NOR): an address means the
    same in every language."""
    rows = (
        Delegation.objects.filter(statements__commitments__published=True)
        .select_related("state")
        .distinct()
    )
    return sorted(rows, key=lambda row: (localized(row, "name").plain.casefold(), row.code))


class DelegationChoiceField(forms.ChoiceField):
    """The delegation filter: a delegation's code, or (as addresses gave it before codes) its
    name in any of the tracker's languages, any case; `aliases` is set by the form."""

    aliases = None

    def to_python(self, value):
        value = super().to_python(value).strip()
        if value and self.aliases is not None:
            return self.aliases().get(value.casefold(), value)
        return value

    def bound_data(self, data, initial):
        # The menu shows the delegation an address names however it names it.
        return self.to_python(data) if isinstance(data, str) else data


def _day_field(label, field=forms.DateField, **kwargs):
    """An optional day in a public address, as YYYY-MM-DD, with the browser's date picker."""
    return field(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD, for example 2012-09-14.")},
        **kwargs,
    )


class DayOrMomentField(forms.DateField):
    """A day (YYYY-MM-DD), or a moment to the second in UTC (YYYY-MM-DDTHH:MM:SSZ), the form
    a permanent link gives "as recorded" so that what is recorded later the same day stays
    out of it."""

    def to_python(self, value):
        if isinstance(value, str) and len(value) == 20 and value.endswith("Z"):
            try:
                moment = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
            except ValueError as error:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid"
                ) from error
            return moment.replace(tzinfo=datetime.UTC)
        return super().to_python(value)


class PublicFilterForm(forms.Form):
    """The public list's GET filters and the date it is shown at; every field optional.

    Invalid fields are reported and left out; the valid ones still apply.
    """

    q = forms.CharField(label=_("Search"), required=False, max_length=200, strip=True)
    theme = forms.ModelChoiceField(
        label=_("Theme"),
        widget=LanguageSelect,
        queryset=Theme.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("All themes"),
    )
    status = forms.ChoiceField(
        label=_("Verdict"), choices=[("", _("All verdicts")), *Verdict.choices], required=False
    )
    statement = forms.ModelChoiceField(
        label=_("Statement"),
        queryset=Statement.objects.defer("text"),
        to_field_name="slug",
        required=False,
        empty_label=_("All statements"),
    )
    # Only the delegations the public can see (those with a published commitment); read
    # once per form, and only if the menu is drawn or a delegation is asked for.
    delegation = DelegationChoiceField(label=_("Delegation"), required=False, widget=LanguageSelect)
    article = forms.ModelChoiceField(
        label=_("Convention article"),
        queryset=Article.objects.all(),
        to_field_name="number",
        required=False,
        empty_label=_("All articles"),
    )
    as_of = _day_field(_("Show the tracker as it stood on"))
    known_on = _day_field(
        _("As recorded on"),
        field=DayOrMomentField,
        help_text=_("Leave out what was recorded after this day: the view a citation saw."),
    )

    LIST_FILTERS = ("q", "theme", "status", "statement", "delegation", "article")
    VIEWPOINT_FIELDS = ("as_of", "known_on")

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        # Names in the page's language, "(English)" where there is no version in it.
        self.public_delegations = functools.cache(public_delegations)
        self.delegations = functools.cache(
            lambda: [(row.code, localized(row, "name")) for row in self.public_delegations()]
        )
        self.fields["delegation"].choices = lambda: [
            ("", gettext("All delegations")),
            *((key, name.label) for key, name in self.delegations()),
        ]
        self.fields["delegation"].aliases = functools.cache(self._delegation_aliases)
        self.fields["theme"].label_from_instance = lambda theme: localized(theme, "name").label
        self.fields["statement"].queryset = Statement.objects.defer("text").select_related(
            "delegation__state"
        )
        self.fields["statement"].label_from_instance = lambda statement: ", ".join(
            (
                localized(statement.delegation, "name").plain,
                localized(statement, "place").plain,
                formats.date_format(statement.date),
            )
        )
        self.fields["article"].label_from_instance = lambda article: (
            _("Art. %(number)s — %(title)s")
            % {"number": article.number, "title": localized(article, "title").plain}
        )

    def _delegation_aliases(self):
        """{code or name, casefolded: code} for the delegations the menu offers."""
        aliases = {}
        for row in self.public_delegations():
            for language in LANGUAGE_CODES:
                if text := version(row, "name", language):
                    aliases.setdefault(text.casefold(), row.code)
        for row in self.public_delegations():
            aliases[row.code.casefold()] = row.code
        return aliases

    def _not_future(self, name):
        value = self.cleaned_data[name]
        if isinstance(value, datetime.datetime):
            future = value > timezone.now()
        else:
            future = value and value > timezone.localdate()
        if future:
            raise forms.ValidationError(_("This date is in the future."))
        return value

    def clean_as_of(self):
        return self._not_future("as_of")

    def clean_known_on(self):
        return self._not_future("known_on")

    def selection(self):
        """(Viewpoint, filters for CommitmentQuerySet.matching) from the valid fields."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if value}
        point = Viewpoint(data.pop("as_of", None), data.pop("known_on", None))
        return point, data

    def has_list_filters(self):
        self.is_valid()
        return any(self.cleaned_data.get(name) for name in self.LIST_FILTERS)

    def description(self):
        """The list's filters in words, for "the figures cover…": Theme “…”, Verdict “…”."""
        self.is_valid()
        parts = []
        for name in self.LIST_FILTERS:
            value = self.cleaned_data.get(name)
            if not value:
                continue
            field = self.fields[name]
            if hasattr(field, "label_from_instance"):
                shown = field.label_from_instance(value)
            elif isinstance(field, forms.ChoiceField):
                shown = dict(field.choices).get(value, value)
            else:
                shown = value
            parts.append(_("%(filter)s “%(value)s”") % {"filter": field.label, "value": shown})
        return ", ".join(str(part) for part in parts)


def public_selection(data):
    """The public filters of a GET query, shared by the dashboard and the exports.

    Returns the bound form, the Viewpoint (as at, known on), every published commitment seen
    from it with its state then, and those of them that match the list's filters.
    """
    form = PublicFilterForm(data)
    point, filters = form.selection()
    commitments = public_commitments(point)
    return form, point, commitments, commitments.matching(as_of=point, **filters)


def public_commitments(point):
    """Every published commitment seen from a Viewpoint, with its state then: what every
    public page counts (the dashboard, the statements, the exports)."""
    return Commitment.objects.published().seen_from(point).as_of(point)


class FollowUpTranslationForm(forms.Form):
    """A follow-up's note (and evidence label) in a language it lacks (records.add_translation).
    Fields are named by follow-up and language, so several rows share one page."""

    public_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=NOTE_MAX_LENGTH
    )
    evidence_label = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, follow_up, language, **kwargs):
        kwargs.setdefault("prefix", f"t{follow_up.pk}-{language}")
        super().__init__(*args, **kwargs)
        self.follow_up, self.language = follow_up, language
        name = get_language_info(language)["name_translated"]
        self.fields["public_note"].label = _("What happened (public), in %(language)s") % {
            "language": name
        }
        self.fields["evidence_label"].label = _("Evidence label, in %(language)s") % {
            "language": name
        }
        for field in self.fields.values():
            field.widget.attrs["lang"] = language
        if not (
            follow_up.evidence_label_en
            or follow_up.evidence_label_fr
            or follow_up.evidence_label_es
        ):
            del self.fields["evidence_label"]  # no label to translate

    def clean(self):
        data = super().clean()
        if not any((data.get(name) or "").strip() for name in self.fields):
            raise forms.ValidationError(_("Give the translation."))
        return data

    def save(self, by):
        """Raises records.TranslationTaken if someone gave this version meanwhile."""
        return add_translation(
            self.follow_up,
            self.language,
            public_note=self.cleaned_data.get("public_note", ""),
            evidence_label=self.cleaned_data.get("evidence_label", ""),
            by=by,
        )


class SendBackForm(forms.Form):
    """Send a proposed follow-up back to its author, with a note saying why (required: the
    author reads it on the staff page). Named by proposal, so several share the queue."""

    note = forms.CharField(
        label=_("Why you send it back (the author reads this)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=NOTE_MAX_LENGTH,
        error_messages={"required": _("Say why you send it back: the author reads this note.")},
    )

    def __init__(self, *args, proposal, **kwargs):
        kwargs.setdefault("prefix", f"p{proposal.pk}")
        super().__init__(*args, **kwargs)
        self.proposal = proposal
