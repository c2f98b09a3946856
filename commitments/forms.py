from django import forms
from django.utils.translation import gettext_lazy as _

from .models import FollowUp


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
