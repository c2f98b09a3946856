"""Every role on every staff URL and admin action: what each may see and do.

Roles: anonymous, a signed-in non-staff member, staff with no role, and the three groups
the migrations create (viewers, editors, administrators), plus a superuser.
"""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from commitments.models import Commitment, FollowUp, Statement, Status, Theme

from .conftest import member_of
from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # 150 sign-ins: the real hasher's cost buys nothing in a permissions table.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


ROLES = ["anonymous", "member", "no_role", "viewer", "editor", "administrator", "superuser"]
LOGIN = "login"  # a redirect to the login page


def sign_in(client, role):
    if role == "anonymous":
        return None
    user = {
        "member": lambda: UserFactory(),
        "no_role": lambda: UserFactory(is_staff=True),
        "viewer": lambda: member_of("viewers"),
        "editor": lambda: member_of("editors"),
        "administrator": lambda: member_of("administrators"),
        "superuser": lambda: UserFactory(is_staff=True, is_superuser=True),
    }[role]()
    client.force_login(user)
    return user


def ids():
    commitment = Commitment.objects.get(reference="NOR-2012-07")
    return {
        "c": commitment.pk,
        "s": Statement.objects.get().pk,
        "t": Theme.objects.get(slug="regional").pk,
        "v": commitment.version,
    }


def follow_up_post(i):
    p = f"c{i['c']}"
    return {
        f"{p}-version": i["v"],
        f"{p}-status": Status.IN_PROGRESS,
        f"{p}-happened_on": "2013-03-01",
        f"{p}-public_note": "Role test",
    }


def commitment_edit(i):
    c = Commitment.objects.get(pk=i["c"])
    data = {
        "statement": c.statement_id,
        "reference": c.reference,
        "title": "Edited by role test",
        "quote": c.quote,
        "theme": c.theme_id,
        "kind": c.kind,
        "articles": [a.pk for a in c.articles.all()],
        "weight": c.weight,
        "owner": "",
        "next_review": "",
        "published": "on",
        "based_on_version": c.version,
    }
    for prefix in ("follow_ups", "follow_ups-2"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data


def bulk_action(i):
    return {
        "action": "bulk_follow_up",
        "_selected_action": [i["c"]],
        "apply": "1",
        f"version-{i['c']}": i["v"],
        "status": Status.IN_PROGRESS,
        "happened_on": "2013-03-01",
    }


def theme_edit(i):
    theme = Theme.objects.get(pk=i["t"])
    return {"name": "Renamed", "slug": theme.slug, "description": "", "position": 0}


# (name, method, url, data, expected status per role, signs of a write)
R, E, A = "viewer", "editor", "administrator"
ALL_STAFF = {R: 200, E: 200, A: 200, "superuser": 200}
CASES = [
    ("staff page", "get", "/staff/", None, ALL_STAFF, None),
    ("staff page, filtered", "get", "/staff/?show=all&theme=norm", None, ALL_STAFF, None),
    (
        "staff follow-up",
        "post",
        "/staff/commitments/NOR-2012-07/follow-ups/",
        follow_up_post,
        {R: 403, E: 302, A: 302, "superuser": 302},
        lambda: FollowUp.objects.exists(),
    ),
    ("admin index", "get", "/admin/", None, ALL_STAFF, None),
    ("commitment list", "get", "/admin/commitments/commitment/", None, ALL_STAFF, None),
    ("commitment page", "get", "/admin/commitments/commitment/{c}/change/", None, ALL_STAFF, None),
    (
        "commitment history",
        "get",
        "/admin/commitments/commitment/{c}/history/",
        None,
        ALL_STAFF,
        None,
    ),
    (
        "commitment edit",
        "post",
        "/admin/commitments/commitment/{c}/change/",
        commitment_edit,
        {R: 403, E: 302, A: 302, "superuser": 302},
        lambda: Commitment.objects.filter(title="Edited by role test").exists(),
    ),
    (
        "commitment add page",
        "get",
        "/admin/commitments/commitment/add/",
        None,
        {R: 403, E: 403, A: 200, "superuser": 200},
        None,
    ),
    (
        "commitment delete page",
        "get",
        "/admin/commitments/commitment/{c}/delete/",
        None,
        {R: 403, E: 403, A: 200, "superuser": 200},
        None,
    ),
    (
        # The admin drops actions a user may not run: "No action selected", nothing written.
        "bulk follow-up action",
        "post",
        "/admin/commitments/commitment/",
        bulk_action,
        {R: 200, E: 302, A: 302, "superuser": 302},
        lambda: FollowUp.objects.exists(),
    ),
    (
        "delete selected action",
        "post",
        "/admin/commitments/commitment/",
        lambda i: {"action": "delete_selected", "_selected_action": [i["c"]], "post": "yes"},
        {R: 200, E: 302, A: 302, "superuser": 302},
        lambda: not Commitment.objects.filter(reference="NOR-2012-07").exists(),
    ),
    ("commitment export", "get", "/admin/commitments/commitment/export/", None, ALL_STAFF, None),
    (
        "commitment import",
        "get",
        "/admin/commitments/commitment/import/",
        None,
        {R: 403, E: 403, A: 200, "superuser": 200},
        None,
    ),
    ("follow-up list", "get", "/admin/commitments/followup/", None, ALL_STAFF, None),
    ("statement page", "get", "/admin/commitments/statement/{s}/change/", None, ALL_STAFF, None),
    (
        "statement add page",
        "get",
        "/admin/commitments/statement/add/",
        None,
        {R: 403, E: 403, A: 200, "superuser": 200},
        None,
    ),
    (
        "statement proposals",
        "get",
        "/admin/commitments/statement/{s}/propose/",
        None,
        {R: 403, E: 403, A: 200, "superuser": 200},
        None,
    ),
    (
        "statement import",
        "get",
        "/admin/commitments/statement/import/",
        None,
        {R: 403, E: 403, A: 200, "superuser": 200},
        None,
    ),
    (
        "theme edit",
        "post",
        "/admin/commitments/theme/{t}/change/",
        theme_edit,
        {R: 403, E: 403, A: 302, "superuser": 302},
        lambda: Theme.objects.filter(name="Renamed").exists(),
    ),
    (
        "user list",
        "get",
        "/admin/auth/user/",
        None,
        {R: 403, E: 403, A: 200, "superuser": 200},
        None,
    ),
    (
        "group list",
        "get",
        "/admin/auth/group/",
        None,
        {R: 403, E: 403, A: 200, "superuser": 200},
        None,
    ),
]

WRITERS = {
    "staff follow-up": {E, A, "superuser"},
    "commitment edit": {E, A, "superuser"},
    "bulk follow-up action": {E, A, "superuser"},
    "theme edit": {A, "superuser"},
    "delete selected action": {A, "superuser"},
}


def expected_for(role, name, url, table):
    if role == "anonymous":
        return LOGIN
    if role == "member":
        # /staff/ says 403 to a signed-in non-staff user; the admin sends them to log in.
        return 403 if url.startswith("/staff/") else LOGIN
    if role == "no_role":
        return 403 if url.startswith("/staff/") else (200 if url == "/admin/" else 403)
    return table[role]


def outcome(client, method, target, payload):
    response = getattr(client, method)(target, payload) if payload else client.get(target)
    if response.status_code == 302 and response.url.startswith("/admin/login/"):
        return LOGIN, response
    return response.status_code, response


@pytest.mark.parametrize("role", ROLES)
def test_role_on_every_staff_url_and_admin_action(client, seeded, role):
    """One test per role; each case runs in a savepoint that is rolled back afterwards."""
    sign_in(client, role)
    mismatches = []
    for name, method, url, data, table, written in CASES:
        with transaction.atomic():
            i = ids()
            target = url.format(**i)
            got, response = outcome(client, method, target, data(i) if data else None)
            expected = expected_for(role, name, url, table)
            if got != expected:
                mismatches.append(f"{name}: {method.upper()} {target} gave {got}, not {expected}")
            if written is not None and written() != (role in WRITERS[name]):
                mismatches.append(f"{name}: wrote {written()}, expected {role in WRITERS[name]}")
            no_store = "no-store" in response.headers.get("Cache-Control", "")
            if url.startswith("/staff/") and response.status_code < 400 and not no_store:
                mismatches.append(f"{name}: cacheable")
            transaction.set_rollback(True)
    assert mismatches == []


def test_role_groups_exist_after_migrations(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "viewers",
        "editors",
        "administrators",
    }
