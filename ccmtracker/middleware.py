from django.conf import settings
from django.urls import reverse
from django.utils import translation

from commitments.models import StaffPreference

from .views import DATABASE_UNAVAILABLE, service_unavailable


def is_staff_side(path):
    """The staff pages and the admin: one address whatever the language (ccmtracker/urls.py)."""
    return path.startswith((reverse("staff_home"), reverse("admin:index")))


class StaffLanguageMiddleware:
    """Staff pages and the admin in the language each staff member chose (StaffPreference).

    Public pages keep the language of their address, and a staff member who chose nothing
    gets what LocaleMiddleware found (English: staff addresses have no prefix). Comes after
    AuthenticationMiddleware; the session is read only on the staff side, and only when
    there is one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = self._chosen(request)
        if language is None:
            return self.get_response(request)
        # Left active for the response: LocaleMiddleware, outside this one, says it in
        # Content-Language.
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return self.get_response(request)

    def _chosen(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES or not is_staff_side(request.path):
            return None
        if not request.user.is_authenticated:
            return None
        language = StaffPreference.objects.language_of(request.user)
        return language if language in dict(settings.LANGUAGES) else None


class DatabaseUnavailableMiddleware:
    """A database that cannot be reached answers 503 with Retry-After, not a generic 500.

    Views' errors come here; an error raised in a middleware (a session read, say) reaches
    the same page through handler500 (ccmtracker.views.server_error).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return service_unavailable(request, exception)
        return None


# Features no page of the site uses, turned off for it and anything it might embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in [
        "accelerometer",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    ]
)


class ResponseHeadersMiddleware:
    """What every response carries, static files included (so it comes first in MIDDLEWARE):
    Cross-Origin-Resource-Policy and Permissions-Policy. And a HEAD request gets the headers
    a GET would, without a body: Django's handler sends the body, and gunicorn would drop it
    with a warning in the log on every HEAD.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Open data stays readable from other sites through CORS (the exports say
        # Access-Control-Allow-Origin: *); CORP only stops no-cors embedding.
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.method == "HEAD":
            if response.streaming:
                response.streaming_content = []  # the rows are never read
            elif response.content:
                length = response.get("Content-Length", str(len(response.content)))
                response.content = b""
                response["Content-Length"] = length
        return response
