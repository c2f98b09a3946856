"""The meeting report: /reports/<meeting>/ and its PDF. (Issue 14.)"""

from django.http import Http404


def meeting_report(request, meeting):
    raise Http404  # being built


def meeting_report_pdf(request, meeting):
    raise Http404  # being built
