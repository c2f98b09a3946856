from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Article, Commitment, FollowUp, Statement, Theme


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
        "author",
        "recorded_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NewFollowUpForm(forms.ModelForm):
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


class NewFollowUpInline(admin.StackedInline):
    """One blank follow-up on the commitment's page; saved through record_follow_up()."""

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
        return formset


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
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
    list_filter = ["theme", "status", "statement", OverdueFilter, "published", "kind"]
    search_fields = ["reference", "title", "quote"]
    list_select_related = ["theme", "owner"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["articles"]
    readonly_fields = ["status", "progress", "last_follow_up_on", "created_at"]
    fieldsets = [
        (None, {"fields": ["statement", "reference", "title", "quote", "theme", "kind"]}),
        (
            _("Tracking"),
            {"fields": ["articles", "weight", "owner", "next_review", "published"]},
        ),
        (
            _("Current state (from the follow-ups)"),
            {"fields": ["status", "progress", "last_follow_up_on", "created_at"]},
        ),
    ]

    def get_inlines(self, request, obj):
        return [NewFollowUpInline, PastFollowUpInline] if obj else []

    def save_formset(self, request, form, formset, change):
        if formset.model is not FollowUp:
            return super().save_formset(request, form, formset, change)
        # The admin's change message reads these lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if inline_form.has_changed() and inline_form.cleaned_data:
                data = {
                    name: inline_form.cleaned_data[name] for name in NewFollowUpForm.Meta.fields
                }
                follow_up = form.instance.record_follow_up(by=request.user, **data)
                formset.new_objects.append(follow_up)
        return None


class CommitmentInline(admin.TabularInline):
    model = Commitment
    fields = ["reference", "title", "theme", "status", "published"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ["title", "delegation", "place", "date", "language"]
    list_filter = ["delegation", "language"]
    search_fields = ["title", "delegation", "meeting", "text"]
    prepopulated_fields = {"slug": ["delegation", "date"]}
    date_hierarchy = "date"
    inlines = [CommitmentInline]


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["number", "title"]
    search_fields = ["title"]


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    """The whole history across commitments, to read; recording happens on a commitment."""

    list_display = ["commitment", "happened_on", "status", "progress", "author", "recorded_at"]
    list_filter = ["status", "commitment__theme"]
    search_fields = ["commitment__reference", "public_note", "internal_note"]
    list_select_related = ["commitment", "author"]
    date_hierarchy = "happened_on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
