"""Probes for load balancers and orchestrators (plain text, never cached, no versions), and
the error pages."""

import logging
import sys

from django.core.cache import caches
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# How long a client should wait before trying again while the database is unreachable.
RETRY_AFTER_SECONDS = 30
# The database driver's "cannot reach the server" errors: the site is unavailable, not broken.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def _plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and answering; says nothing about the database."""
    return _plain("ok\n")


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready for traffic: the database answers and every migration is applied.

    The shared cache is reported but never makes a server unready: every server shares it, so
    an outage would take them all out of rotation at once, and pages are served without it.
    """
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return _plain("database unavailable\n", status=503)
    if pending:
        return _plain("migrations pending\n", status=503)
    ping = getattr(caches["default"], "ping", None)
    if ping is not None and not ping():
        return _plain("ok\ncache unavailable (degraded: pages served uncached)\n")
    return _plain("ok\n")


def service_unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    """503 with Retry-After, for a database that cannot be reached: one log line, no trace."""
    logger.warning(
        "database unavailable: %s: %s",
        type(error).__name__,
        str(error).strip().splitlines()[0] if str(error).strip() else "",
        extra={"event": "database_unavailable", "path": request.path},
    )
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


# Error handlers (ccmtracker/urls.py). Django's own are wrapped in requires_csrf_token, which
# reads the body of a POST again: a body Django refused (a non-UTF-8 charset) then raises
# inside the handler, and a 400 became a 500. These never read the body.


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Nothing from the request: its Host may be one we refuse, and anything that builds an
    # address (the context processors) would raise again.
    return HttpResponseBadRequest(render_to_string("400.html"))


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return HttpResponseForbidden(render_to_string("403.html", request=request))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return HttpResponseNotFound(render_to_string("404.html", request=request))


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exception()
    if isinstance(error, DATABASE_UNAVAILABLE):
        return service_unavailable(request, error)
    return HttpResponseServerError(render_to_string("500.html"))
