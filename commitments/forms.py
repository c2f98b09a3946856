from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Article, FollowUp, Statement, Status, Theme


class FollowUpForm(forms.ModelForm):
    """A follow-up on one commitment; its status choices are those the commitment allows."""

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
        ]
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

    def __init__(self, *args, commitment, **kwargs):
        kwargs.setdefault("prefix", f"c{commitment.pk}")
        super().__init__(*args, **kwargs)
        self.commitment = commitment
        self.instance.commitment = commitment
        allowed = {status.value for status in commitment.allowed_statuses}
        self.fields["status"].choices = [
            (value, label) for value, label in self.fields["status"].choices if value in allowed
        ]
        self.fields["happened_on"].required = True

    def record(self, by):
        data = self.cleaned_data
        return self.commitment.record_follow_up(by=by, **data)


class PublicFilterForm(forms.Form):
    """The public list's GET filters and the date it is shown at; every field optional.

    Invalid fields are reported and left out; the valid ones still apply.
    """

    q = forms.CharField(label=_("Search"), required=False, max_length=200, strip=True)
    theme = forms.ModelChoiceField(
        label=_("Theme"),
        queryset=Theme.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("All themes"),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All statuses")), *Status.choices], required=False
    )
    statement = forms.ModelChoiceField(
        label=_("Statement"),
        queryset=Statement.objects.defer("text"),
        to_field_name="slug",
        required=False,
        empty_label=_("All statements"),
    )
    article = forms.ModelChoiceField(
        label=_("Convention article"),
        queryset=Article.objects.all(),
        to_field_name="number",
        required=False,
        empty_label=_("All articles"),
    )
    as_of = forms.DateField(
        label=_("Show the tracker as it stood on"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD, for example 2012-09-14.")},
    )

    LIST_FILTERS = ("q", "theme", "status", "statement", "article")

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        # The seed's theme names and article titles are in the catalogues (see seed.py).
        self.fields["theme"].label_from_instance = lambda theme: gettext(theme.name)
        self.fields["article"].label_from_instance = lambda article: (
            _("Art. %(number)s — %(title)s")
            % {"number": article.number, "title": gettext(article.title)}
        )

    def clean_as_of(self):
        as_of = self.cleaned_data["as_of"]
        if as_of and as_of > timezone.localdate():
            raise forms.ValidationError(_("This date is in the future."))
        return as_of

    def selection(self):
        """(as_of date or None, filters for CommitmentQuerySet.matching) from the valid fields."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if value}
        as_of = data.pop("as_of", None)
        return as_of, data

    def has_list_filters(self):
        self.is_valid()
        return any(self.cleaned_data.get(name) for name in self.LIST_FILTERS)
