"""A statement is made by a Delegation (a state or an organisation), no longer named by free
text and a separate code.

Each distinct code the statements (and their history) use becomes one Delegation: a state's
when the statement's English name or its code resolves to a country (by name in English, French
or Spanish, or by its ISO alpha-3 code: "Norway"/NOR is the State NO), else an organisation
named by the text (English, French and Spanish from the statement's versions), with the
statement's code as the delegation's. A Delegation that already has the code, or the state, is
reused. Commitment references and statement slugs are stored and untouched.

Reversing writes the text back: the delegation's name in each language and its code.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import translation
from django_countries import countries

LANGUAGES = ("en", "fr", "es")


def _text(value):
    return (value or "").strip()


def _country(name, code):
    """The alpha-2 code `name` (in any of the tracker's languages) or `code` (alpha-3) names,
    or ""."""
    for language in LANGUAGES:
        if name and (found := countries.by_name(name, language=language)):
            return found
    if len(code) == 3 and code.isalpha():
        return countries.alpha2(code)
    return ""


def _free_code(taken, name):
    """A code for a statement that had none: the name's first letters, made unique."""
    base = "".join(ch for ch in name.upper() if ch.isalpha())[:6] or "DEL"
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base[: 6 - len(str(n))]}{n}"
    return code


def link_delegations(apps, schema_editor):
    Statement = apps.get_model("commitments", "Statement")
    History = apps.get_model("commitments", "HistoricalStatement")
    Delegation = apps.get_model("commitments", "Delegation")
    State = apps.get_model("commitments", "State")

    # What each code was called: the current statements first (latest first), then history.
    fields = ["delegation", *(f"delegation_{code}" for code in LANGUAGES), "code"]
    rows = [
        *Statement.objects.order_by("-date", "-pk").values("pk", *fields),
        *History.objects.order_by("-history_date", "-history_id").values("history_id", *fields),
    ]
    names = {}  # ("code", code) or ("name", English name) -> {language: text}
    for row in rows:
        english = _text(row["delegation_en"]) or _text(row["delegation"])
        # A statement without a code is known by its name.
        row["key"] = ("code", _text(row["code"])) if _text(row["code"]) else ("name", english)
        versions = names.setdefault(row["key"], {})
        for language in LANGUAGES:
            text = english if language == "en" else _text(row[f"delegation_{language}"])
            if text and language not in versions:
                versions[language] = text

    taken = set(Delegation.objects.values_list("code", flat=True))
    chosen = {}  # key -> Delegation
    for key, versions in names.items():
        english = versions.get("en", "") or key[1] or "Unnamed delegation"
        code = key[1] if key[0] == "code" else ""
        delegation = Delegation.objects.filter(code=code).first() if code else None
        if delegation is None and (country := _country(english, code)):
            state = State.objects.filter(country=country).first()
            if state is not None:
                delegation = Delegation.objects.filter(state=state).first()
                if delegation is None:
                    code = code or (countries.alpha3(country) or _free_code(taken, english))
                    delegation = Delegation.objects.create(
                        kind="state", state=state, name="", code=code
                    )
                    taken.add(code)
        if delegation is None:
            code = code if code and code not in taken else _free_code(taken, english)
            delegation = Delegation.objects.create(
                kind="organisation",
                code=code,
                name=english,
                name_en=english,
                name_fr=versions.get("fr") or None,
                name_es=versions.get("es") or None,
            )
            taken.add(code)
        chosen[key] = delegation

    for row in rows:
        model, pk = (Statement, row["pk"]) if "pk" in row else (History, row["history_id"])
        field = "pk" if model is Statement else "history_id"
        model.objects.filter(**{field: pk}).update(delegation_link=chosen[row["key"]])


def _names(delegation, State):
    """The delegation's name in each language, as the statement's text had it."""
    if delegation.state_id:
        state = State.objects.get(pk=delegation.state_id)
        names = {}
        for language in LANGUAGES:
            with translation.override(language):
                names[language] = str(countries.name(state.country))
        return names
    english = delegation.name_en or delegation.name
    return {"en": english, "fr": delegation.name_fr, "es": delegation.name_es}


def unlink_delegations(apps, schema_editor):
    Statement = apps.get_model("commitments", "Statement")
    History = apps.get_model("commitments", "HistoricalStatement")
    Delegation = apps.get_model("commitments", "Delegation")
    State = apps.get_model("commitments", "State")
    for delegation in Delegation.objects.all():
        names = _names(delegation, State)
        text = {
            "delegation": names["en"],
            **{f"delegation_{language}": names[language] for language in LANGUAGES},
            "code": delegation.code[:3],
        }
        Statement.objects.filter(delegation_link=delegation).update(**text)
        History.objects.filter(delegation_link_id=delegation.pk).update(**text)


class Migration(migrations.Migration):
    # PostgreSQL refuses to alter a table with the data step's deferred constraint checks still
    # pending in the same transaction: each step commits on its own, the data step in one.
    atomic = False

    dependencies = [("commitments", "0014_states")]

    operations = [
        migrations.AddField(
            model_name="statement",
            name="delegation_link",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="commitments.delegation",
            ),
        ),
        migrations.AddField(
            model_name="historicalstatement",
            name="delegation_link",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="commitments.delegation",
            ),
        ),
        migrations.RunPython(link_delegations, unlink_delegations, atomic=True),
        # Reversing re-adds these columns: with a default, so that existing rows can have them
        # before the text is written back.
        *(
            migrations.AlterField(
                model_name=model,
                name=name,
                field=models.CharField(default="", max_length=length, verbose_name=name),
            )
            for model in ("historicalstatement", "statement")
            for name, length in (("delegation", 120), ("code", 3))
        ),
        *(
            migrations.RemoveField(model_name=model, name=name)
            for model in ("historicalstatement", "statement")
            for name in ("delegation", "delegation_en", "delegation_fr", "delegation_es", "code")
        ),
        migrations.RenameField("statement", "delegation_link", "delegation"),
        migrations.RenameField("historicalstatement", "delegation_link", "delegation"),
        migrations.AlterField(
            model_name="historicalstatement",
            name="delegation",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Who made the statement: a state or an organisation.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="commitments.delegation",
                verbose_name="delegation",
            ),
        ),
        migrations.AlterField(
            model_name="statement",
            name="delegation",
            field=models.ForeignKey(
                help_text="Who made the statement: a state or an organisation.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="statements",
                to="commitments.delegation",
                verbose_name="delegation",
            ),
        ),
        migrations.AlterModelOptions(
            name="statement",
            options={
                "ordering": ["-date", "delegation__code"],
                "verbose_name": "statement",
                "verbose_name_plural": "statements",
            },
        ),
    ]
