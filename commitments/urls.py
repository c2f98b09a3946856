from django.urls import path, re_path
from django.views.decorators.http import require_safe

from ccmtracker.pagecache import public_page

from . import exports, feeds, replies, reports, states, views


def _feed(feed):
    """A feed, like the public pages: GET and HEAD only, cached, compressed, and answering
    conditional requests (public_page)."""
    return require_safe(public_page(feed, gzip=True))


# Public pages: ccmtracker/urls.py mounts these inside i18n_patterns (/fr/…, /es/…).
public_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("commitments/<slug:reference>/", views.commitment_detail, name="commitment_detail"),
    path(
        "commitments/<slug:reference>/feed/", _feed(feeds.CommitmentFeed()), name="feed_commitment"
    ),
    # The right of reply: a page of its own (it sets the CSRF cookie; the commitment's does not).
    path("commitments/<slug:reference>/reply/", replies.reply_form, name="reply_form"),
    path("commitments/<slug:reference>/reply/sent/", replies.reply_sent, name="reply_sent"),
    path("statements/", views.statement_list, name="statement_list"),
    path("statements/<slug:slug>/", views.statement_detail, name="statement_detail"),
    path("feed/", _feed(feeds.UpdatesFeed()), name="feed_updates"),
    path("states/", states.state_list, name="state_list"),
    path("states/<str:code>/", states.state_detail, name="state_detail"),
    path("reports/", reports.report_list, name="report_list"),
    path("reports/<slug:meeting>/", reports.meeting_report, name="meeting_report"),
    path(
        "reports/<slug:meeting>/report.pdf", reports.meeting_report_pdf, name="meeting_report_pdf"
    ),
]

# Language-neutral: data at stable addresses, and the staff side.
urlpatterns = [
    re_path(
        r"^data/commitments\.(?P<fmt>csv|json)$",
        exports.export_commitments,
        name="export_commitments",
    ),
    re_path(
        r"^data/follow-ups\.(?P<fmt>csv|json)$",
        exports.export_follow_ups,
        name="export_follow_ups",
    ),
    re_path(
        r"^data/replies\.(?P<fmt>csv|json)$",
        exports.export_replies,
        name="export_replies",
    ),
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/replies/", replies.staff_replies, name="staff_replies"),
    path(
        "staff/replies/<int:pk>/publish/", replies.staff_reply_publish, name="staff_reply_publish"
    ),
    path("staff/replies/<int:pk>/reject/", replies.staff_reply_reject, name="staff_reply_reject"),
    path(
        "staff/replies/<int:pk>/follow-up/",
        replies.staff_reply_follow_up,
        name="staff_reply_follow_up",
    ),
    path("staff/language/", views.staff_language, name="staff_language"),
    path("staff/review/", views.staff_review, name="staff_review"),
    path("staff/review/<int:pk>/confirm/", views.staff_review_confirm, name="staff_review_confirm"),
    path(
        "staff/review/<int:pk>/withdraw/",
        views.staff_review_withdraw,
        name="staff_review_withdraw",
    ),
    path(
        "staff/review/<int:pk>/send-back/",
        views.staff_review_send_back,
        name="staff_review_send_back",
    ),
    path("staff/translations/", views.staff_translations, name="staff_translations"),
    path(
        "staff/follow-ups/<int:pk>/translation/<str:language>/",
        views.staff_translate_follow_up,
        name="staff_translate_follow_up",
    ),
    path(
        "staff/commitments/<slug:reference>/follow-ups/",
        views.staff_record_follow_up,
        name="staff_record_follow_up",
    ),
    path(
        "staff/commitments/<slug:reference>/confirm/",
        views.staff_confirm,
        name="staff_confirm",
    ),
]
