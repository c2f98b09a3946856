from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from commitments.urls import public_patterns

from . import views

# Staff pages, the admin and the data exports keep one address whatever the language;
# public pages carry theirs in the URL (English unprefixed, /fr/…, /es/…), so every page
# is shareable and cacheable in its language and no cookie is needed to remember it.
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("", include("commitments.urls")),
    *i18n_patterns(*public_patterns, prefix_default_language=False),
]

handler400 = "ccmtracker.views.bad_request"
handler403 = "ccmtracker.views.permission_denied"
handler404 = "ccmtracker.views.page_not_found"
handler500 = "ccmtracker.views.server_error"
