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


# Accounts: nobody but a superuser grants superuser status or rights they lack


def user_change_data(user, **changes):
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": user.email,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "groups": [g.pk for g in user.groups.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_an_administrator_cannot_make_themself_superuser(client, administrator):
    client.force_login(administrator)
    url = f"/admin/auth/user/{administrator.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page
    response = client.post(url, user_change_data(administrator, is_superuser="on"))
    assert response.status_code == 302
    administrator.refresh_from_db()
    assert not administrator.is_superuser
    assert not administrator.user_permissions.exists()


def test_an_administrator_cannot_change_or_delete_a_superuser(client, administrator):
    boss = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(administrator)
    response = client.post(
        f"/admin/auth/user/{boss.pk}/change/", user_change_data(boss, is_staff="")
    )
    assert response.status_code == 403
    assert client.post(f"/admin/auth/user/{boss.pk}/delete/", {"post": "yes"}).status_code == 403
    boss.refresh_from_db()
    assert boss.is_staff
    assert boss.is_superuser


def test_an_administrator_grants_only_roles_within_their_own_rights(client, administrator):
    from django.contrib.auth.models import Permission

    mighty = Group.objects.create(name="mighty")
    mighty.permissions.add(Permission.objects.get(codename="add_followup"))
    mighty.permissions.add(Permission.objects.get(codename="delete_followup"))
    member = member_of("viewers")
    client.force_login(administrator)
    url = f"/admin/auth/user/{member.pk}/change/"
    page = client.get(url).content.decode()
    assert ">mighty<" not in page
    assert ">editors<" in page
    response = client.post(
        url, user_change_data(member, groups=[Group.objects.get(name="editors").pk, mighty.pk])
    )
    assert response.status_code == 200  # the form refuses the choice
    assert list(member.groups.values_list("name", flat=True)) == ["viewers"]
    # Nor may the administrator widen a group beyond their own rights.
    editors = Group.objects.get(name="editors")
    delete_followup = Permission.objects.get(codename="delete_followup")
    response = client.post(
        f"/admin/auth/group/{editors.pk}/change/",
        {
            "name": "editors",
            "permissions": [*editors.permissions.values_list("pk", flat=True), delete_followup.pk],
        },
    )
    assert response.status_code == 200
    assert not editors.permissions.filter(pk=delete_followup.pk).exists()


def test_a_superuser_may_grant_superuser_status(client, administrator):
    boss = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(boss)
    url = f"/admin/auth/user/{administrator.pk}/change/"
    assert 'name="is_superuser"' in client.get(url).content.decode()
    response = client.post(url, user_change_data(administrator, is_superuser="on"))
    assert response.status_code == 302
    administrator.refresh_from_db()
    assert administrator.is_superuser


def test_an_editor_can_look_up_owners_but_not_accounts(client, seeded):
    editor = member_of("editors", username="eddie")
    UserFactory(username="outsider", is_staff=False)
    client.force_login(editor)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "commitments", "model_name": "commitment", "field_name": "owner", "term": ""},
    )
    assert response.status_code == 200
    names = [result["text"] for result in response.json()["results"]]
    assert "eddie" in names
    assert "outsider" not in names
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get(f"/admin/auth/user/{editor.pk}/change/").status_code == 403


def test_viewers_still_cannot_use_the_owner_lookup(client, viewer, seeded):
    client.force_login(viewer)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "commitments", "model_name": "commitment", "field_name": "owner"},
    )
    assert response.status_code == 403


def test_an_administrator_can_lift_a_login_lockout(client, administrator):
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(
        username="locked", ip_address="10.0.0.1", user_agent="x", failures_since_start=5
    )
    client.force_login(administrator)
    assert client.get("/admin/axes/accessattempt/").status_code == 200
    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()


def test_a_refused_next_lands_on_the_staff_page(client, editor):
    editor.set_password("a-long-test-password")
    editor.save()
    response = client.post(
        "/admin/login/?next=https://evil.example/",
        {
            "username": editor.username,
            "password": "a-long-test-password",
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302
    assert response.url == "/staff/"
