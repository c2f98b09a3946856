"""Settings for ccmtracker: one file, safe local defaults, production from the environment.

See the README's configuration table for every variable read here.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")
# pytest sets PYTEST_VERSION. Tests run the production settings except where noted below.
TESTING = "PYTEST_VERSION" in os.environ

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    # pytest sets PYTEST_VERSION; a test run and local debugging may use a throwaway key.
    if DEBUG or TESTING:
        # Only reachable with DEBUG on or under pytest; production must set its own key.
        SECRET_KEY = "insecure-local-only-key-never-used-in-production"  # noqa: S105  # nosec B105
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string in production "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DJANGO_DEBUG=1 for local development."
        )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# The site's public address, for what must not change with the Host a request names (the
# ids of the Atom feeds). Unset, it is https:// and the first allowed host in production,
# and the address `make run` serves locally.
_FIRST_HOST = ALLOWED_HOSTS[0] if ALLOWED_HOSTS else ""
if DEBUG or not _FIRST_HOST or _FIRST_HOST[0] in ".*":
    _DEFAULT_SITE_URL = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
else:
    _DEFAULT_SITE_URL = f"https://{_FIRST_HOST}"
SITE_URL = (os.environ.get("DJANGO_SITE_URL") or _DEFAULT_SITE_URL).rstrip("/")

INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",
    # Before the admin: its TranslationAdmin shows the language versions side by side.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "simple_history",
    "import_export",
    "axes",
    "django_countries",
    "commitments",
]

MIDDLEWARE = [
    # First: its headers go on every response, and HEAD answers lose their body last.
    "ccmtracker.middleware.ResponseHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # An unreachable database answers 503 with Retry-After (ccmtracker/middleware.py).
    "ccmtracker.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Public or private, for every answer past the static files: Cache-Control and Vary
    # (ccmtracker/httpcache.py). Outside the session, CSRF and messages middleware, so it sees
    # every cookie they set.
    "ccmtracker.httpcache.HttpCacheMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Language from the URL prefix (public pages) or Accept-Language (staff without a chosen
    # language: StaffLanguageMiddleware); sets no cookie.
    "django.middleware.locale.LocaleMiddleware",
    # Anonymous public pages from the shared cache (ccmtracker/pagecache.py); after the language
    # is known, before the middleware a cached page does not need.
    "ccmtracker.pagecache.PublicPageCacheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Staff pages and the admin in each staff member's chosen language (StaffPreference).
    "ccmtracker.middleware.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records the signed-in user on every history row (statements, themes, commitments).
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ccmtracker.urls"
WSGI_APPLICATION = "ccmtracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "commitments.context_processors.public_urls",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite in the project folder unless DATABASE_URL names another database, e.g.
# postgres://user:password@host:5432/ccmtracker (psycopg 3).
SQLITE_OPTIONS = {
    # IMMEDIATE: a writer takes the lock up front instead of failing half-way; WAL lets
    # readers go on during a write; synchronous=FULL keeps the last commits on power loss.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
}
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", BASE_DIR / "db.sqlite3"),
            "OPTIONS": SQLITE_OPTIONS,
            # A worker keeps its connection between requests (opening one and setting the
            # pragmas cost ~9% of an uncached commitment page, measured with wrk).
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if TESTING:
    # Hashing at full strength costs ~0.3 s a password; tests create hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S105

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "admin:login"
# Where a login goes when its `next` is missing or refused (an outside address): the staff page.
LOGIN_REDIRECT_URL = "staff_home"

# --- Login throttling (django-axes) ----------------------------------------------------------
# Five failed logins for one username from one address lock that pair out for a while; the
# same username from another address, or another username, still gets in.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a load balancer, DJANGO_TRUSTED_PROXY_COUNT says how many proxies of yours append to
# X-Forwarded-For, so throttling counts the client's address and not the balancer's.
TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "ccmtracker.http.client_ip"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]

# Content in the three languages (commitments/translation.py lists the fields): each field has
# an _en, _fr and _es column. English is the language content is first written in; a page in
# another language shows its own version where it exists, otherwise another one marked with
# its language (commitments/content.py), never silently mixed.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_LANGUAGES = ("en", "fr", "es")
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en", "fr", "es")
# English dates as "16 April 2012", as the Convention's documents write them.
FORMAT_MODULE_PATH = ["ccmtracker.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) ---------------------------------------------------------------
# `collectstatic` writes compressed copies under hashed names, served with far-future caching.
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if TESTING:
    # The suite does not run collectstatic first; tests/test_production.py checks the
    # production storage by running collectstatic into a temporary folder.
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True

# --- Cache and sessions ----------------------------------------------------------------------
# CACHE_URL or REDIS_URL (redis://host:6379/0): Django's RedisCache, shared by every app
# server, failing soft (ccmtracker/failsoft.py): with Redis down, pages are served uncached.
# Short socket timeouts, so an unreachable Redis costs a fraction of a second, not a request.
# Without either, a file cache under var/cache that all worker processes on one machine share
# (a per-process cache would not see another worker's invalidation).
CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL", "")


def redis_cache(url: str) -> dict:
    return {
        "BACKEND": "ccmtracker.failsoft.FailSoftRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "ccm",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }


if CACHE_URL:
    CACHES = {"default": redis_cache(CACHE_URL)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("CACHE_DIR", BASE_DIR / "var" / "cache"),
        }
    }
    if TESTING and not os.environ.get("CACHE_DIR"):
        # Its own folder per test run (tests/conftest.py empties it before each test); a
        # CACHE_DIR given explicitly (processes a test starts, which must share it) wins.
        CACHES["default"]["LOCATION"] = (
            Path(tempfile.gettempdir()) / f"ccm-test-cache-{os.getpid()}"
        )

# Sessions (staff only: public pages never read one) live in the database alone, so a cache
# outage logs nobody out, and a logout during one cannot come back from a stale cached copy.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Anonymous public pages are kept in that cache for this many seconds (0: not cached) and
# outdated whenever public data changes (ccmtracker/pagecache.py).
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "300"))
# While one worker rebuilds an outdated page, the others serve the page as it was for at most
# this many seconds after the change (0: never; every request after a change sees it). Under
# pytest the default is 0, so that a change shows on the very next request; the tests of the
# window turn it on.
PAGE_CACHE_STALE_SECONDS = int(os.environ.get("PAGE_CACHE_STALE_SECONDS", "0" if TESTING else "5"))
PAGE_CACHE_ALIAS = "default"

# HTTP caches in front (browsers, nginx, a CDN: docs/deploy.md) may keep an anonymous public
# answer for HTTP_CACHE_MAX_AGE seconds (Cache-Control: public, max-age): a follow-up recorded
# is public everywhere within that minute. Past it, a cache may go on serving the answer it
# has for HTTP_CACHE_STALE_WHILE_REVALIDATE seconds more while it fetches the new one.
# Everything else is private, no-store (ccmtracker/httpcache.py).
HTTP_CACHE_MAX_AGE = int(os.environ.get("HTTP_CACHE_MAX_AGE", "60"))
HTTP_CACHE_STALE_WHILE_REVALIDATE = int(os.environ.get("HTTP_CACHE_STALE_WHILE_REVALIDATE", "300"))
# The right of reply (commitments/replies.py): defences of the public form, without any
# outside service. A form sent sooner than REPLY_MIN_SECONDS after it was shown is refused
# (people read and type; robots post at once); each client address may send
# REPLY_RATE_PER_MINUTE a minute and each e-mail address REPLY_RATE_PER_EMAIL_HOUR an hour
# (the first counted in the cache, failing open when it is unreachable; the second in the
# database, over the replies stored); a request body over REPLY_MAX_BODY_BYTES is refused
# before any of its fields is looked at (the CSRF check has parsed it by then: Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB, bounds what any request may make it read).
REPLY_MIN_SECONDS = float(os.environ.get("REPLY_MIN_SECONDS", "5"))
REPLY_RATE_PER_MINUTE = int(os.environ.get("REPLY_RATE_PER_MINUTE", "5"))
REPLY_RATE_PER_EMAIL_HOUR = int(os.environ.get("REPLY_RATE_PER_EMAIL_HOUR", "5"))
REPLY_MAX_BODY_BYTES = int(os.environ.get("REPLY_MAX_BODY_BYTES", "32768"))
# The name and e-mail address of a person who sent a reply are personal data, kept for
# moderation and the messages to them: `manage.py erase_reply_senders`, run daily, blanks them
# this many days after the decision (0: kept until a sender asks, `--email`).
REPLY_SENDER_RETENTION_DAYS = int(os.environ.get("REPLY_SENDER_RETENTION_DAYS", "365"))

# --- Security headers and cookies ------------------------------------------------------------
# Production is served over HTTPS only. gunicorn trusts X-Forwarded-Proto from the addresses
# in FORWARDED_ALLOW_IPS (default 127.0.0.1), so a TLS proxy in front needs no setting here.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not (DEBUG or TESTING))
# Load balancers probe these over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# htmx sends the token from the page (hx-headers on the staff <body>), never from the cookie.
CSRF_COOKIE_HTTPONLY = True
# The language cookie, should a language switcher set one, follows the same rules.
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True

# Content-Security-Policy, strict: everything from 'self', nothing inline, no eval. No nonces:
# public pages are cached, and a cached nonce is no nonce.
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# --- Logging ---------------------------------------------------------------------------------
# One JSON object per line on stdout for a log collector; plain lines with DEBUG on
# (DJANGO_LOG_FORMAT=json or text overrides).
# Follow-ups are logged with who recorded them; notes, passwords and tokens never are.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {
        # A 4xx (or the 503 of an unreachable database) is one line, without a traceback.
        "no_client_tracebacks": {"()": "ccmtracker.logs.NoTracebackForClientErrors"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": os.environ.get("DJANGO_LOG_FORMAT", "text" if DEBUG else "json"),
            "filters": ["no_client_tracebacks"],
        },
    },
    "root": {"handlers": ["stdout"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django logs 4xx with the path only; the default handler would also e-mail admins.
        "django": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "axes": {"handlers": ["stdout"], "level": "WARNING", "propagate": False},
        # The meeting report's PDF: WeasyPrint logs each step, and each screen-only CSS rule
        # it skips, on every render; its errors are what an operator needs.
        "weasyprint": {"handlers": ["stdout"], "level": "ERROR", "propagate": False},
        "fontTools": {"handlers": ["stdout"], "level": "ERROR", "propagate": False},
    },
}

# Audit (django-simple-history). Reverting from the history page would be an edit that
# skips the version check, so it is off: a correction is made on the change form.
SIMPLE_HISTORY_REVERT_DISABLED = True

# CSV import and export (django-import-export): an import is all-or-nothing, and only
# those who may add statements and commitments (administrators) may import.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# An import file is refused, with a message, beyond these (README, "Import and export"). The
# preview takes 8 queries whatever the size; the confirmed import saves row by row (history,
# progress), and 1,000 rows is what it does well inside gunicorn's 30 s timeout.
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "1000"))
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(5 * 1024 * 1024)))

# How long a commitment may go without a follow-up before staff are told it needs attention.
REVIEW_STALE_DAYS = 90

# Which follow-ups wait for a second editor's confirmation before they are public
# (commitments/records.py, needs_review): "status-changes" (the default), every follow-up whose
# status differs from the commitment's current one; "off", none (a team of one or two); or a
# comma-separated list of statuses, e.g. "achieved,off_track": the changes of status to one of
# them. "Confirm, no change" and same-status follow-ups are never held. An unknown value
# stops `manage.py check` (and so `make serve`) with a message.
SECOND_REVIEW = os.environ.get("SECOND_REVIEW", "status-changes").strip().lower()

# The published confirmation window: a verdict whose latest evidence is older than this many
# months is shown as "not confirmed since <date>" and left out of the weighted mean ("achieved"
# never expires). Part of the published method (dashboard, docs/open-data.md); after changing
# it, run `manage.py verify --repair` (or `migrate`) so the progress history follows.
CONFIRMATION_WINDOW_MONTHS = int(os.environ.get("CONFIRMATION_WINDOW_MONTHS", "12"))
if CONFIRMATION_WINDOW_MONTHS < 1:
    raise ImproperlyConfigured(
        "CONFIRMATION_WINDOW_MONTHS must be a whole number of months, 1 or more."
    )

# E-mail (Django 6.1 MAILERS): printed to the console unless an SMTP host is configured.
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "ccmtracker@localhost")
if os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": int(os.environ.get("EMAIL_PORT", "587")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", default=True),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
