"""Public pages of the states: /states/ (map and table) and /states/<code>/. (Issue 14.)"""

from django.http import Http404


def state_list(request):
    raise Http404  # being built


def state_detail(request, code):
    raise Http404  # being built
