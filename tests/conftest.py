import os
from importlib import import_module

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from .factories import UserFactory

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from the
# same thread are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CANARY = "CANARY-internal-7f3a9c"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(autouse=True)
def browser_revalidates_public_pages(request, settings):
    """In the browser tests, a public page is kept with max-age 0: Chromium asks again each
    time (a 304 when nothing changed), so a change made in the test shows on the next visit.
    With the default 60 s it would show within the minute, as the contract says (the visitor's
    browser keeps the page that long; tests/test_http_cache.py and .ci/nginx_check.py test
    the contract itself), which a journey made of changes and visits cannot wait for."""
    if request.node.get_closest_marker("browser"):
        settings.HTTP_CACHE_MAX_AGE = 0


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts with an empty cache: a page cached by one test never leaks into another."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def seeded(db):
    call_command("seed", stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def member_client(client, db):
    client.force_login(UserFactory(is_staff=False))
    return client


def member_of(role, **fields):
    """A staff user in one of the role groups the migrations create."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    if not Group.objects.filter(name=role).exists():
        # A transactional (browser) test flushes the tables, groups included: put the
        # groups back exactly as the data migration creates them.
        import_module("commitments.migrations.0003_roles").create_roles(apps, None)
        import_module("commitments.migrations.0007_administrators_unlock_logins").grant(apps, None)
        import_module("commitments.migrations.0016_delegation_roles").grant(apps, None)
        import_module("commitments.migrations.0017_meetings").grant(apps, None)
        import_module("commitments.migrations.0018_treaty_roles").grant(apps, None)
        import_module("commitments.migrations.0019_second_review").grant(apps, None)
        import_module("commitments.migrations.0020_replies").grant(apps, None)
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def second_review_off(settings):
    """For tests about recording itself: a follow-up that changes a status is public at once,
    as with SECOND_REVIEW="off" (a small team's setting). The default, a second review of every
    change of status, is tests/test_second_review.py's."""
    settings.SECOND_REVIEW = "off"


@pytest.fixture
def viewer(db):
    return member_of("viewers")


@pytest.fixture
def editor(db):
    return member_of("editors")


@pytest.fixture
def administrator(db):
    return member_of("administrators")


@pytest.fixture(autouse=True)
def _page_cache_of_its_own(settings, tmp_path):
    """Each test gets an empty shared cache of its own (a file cache, as in production
    without Redis), so no test sees another's pages and the page cache is always on."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    settings.PAGE_CACHE_SECONDS = 300


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """LocaleMiddleware leaves a /fr/ or /es/ request's language active in the test thread."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def partly_translated(db):
    """The seed statement with some content in French and Spanish and some in English only,
    so that every public page in /fr/ and /es/ shows "(English)" fallbacks beside translated
    text: in headings, the <title>, the description, the list, the timeline and the facts."""
    import datetime

    from commitments.models import Commitment, Statement, Status, Theme
    from commitments.records import record_follow_up

    call_command("seed", verbosity=0)
    user = UserFactory(is_staff=True)
    untranslated = {f"{field}_{code}": "" for field in ("title", "criteria", "reading")
                    for code in ("fr", "es")}  # fmt: skip
    Commitment.objects.filter(reference="NOR-2012-10").update(**untranslated)
    Statement.objects.update(meeting_fr="", meeting_es="", place_es="")
    Theme.objects.filter(slug="promotion").update(name_fr="", description_es="")
    commitment = Commitment.objects.get(reference="NOR-2012-10")
    record_follow_up(commitment, status=Status.IN_PROGRESS, by=user,
                     happened_on=datetime.date(2012, 9, 11), public_note="3MSP agenda set",
                     versions={"public_note_fr": "Ordre du jour de la 3MSP arrêté",
                               "public_note_es": "Orden del día de la 3REP fijado"})  # fmt: skip
    record_follow_up(commitment, status=Status.ACHIEVED, by=user,
                     happened_on=datetime.date(2013, 9, 9), public_note="Presidency report",
                     evidence_url="https://example.org/report",
                     evidence_label="Report")  # fmt: skip
    record_follow_up(Commitment.objects.get(reference="NOR-2012-09"), status=Status.ON_TRACK,
                     by=user, happened_on=datetime.date(2013, 5, 1),
                     public_note="Raised at the UNGA")  # fmt: skip
