"""Build a synthetic tracker in its own database for `make bench`.

    DATABASE_URL=sqlite:///var/bench/large.sqlite3 python bench/build.py --scale 1

Scale 1: 20 statements, 2,000 commitments, 50,000 follow-ups; scale 0.1 is ten times
smaller. Rows go in with bulk_create (FollowUp.save refuses edits, bulk inserts are
fine); the database's triggers mark what they touch, and one sync() at the end derives
every commitment's state and the progress history, so the database looks exactly as if
record_follow_up had written it. Never run it
against the development database: run.py gives it a database of its own.
"""

import argparse
import datetime
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccmtracker.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")

THEMES = [
    ("Universalisation", "universalisation"),
    ("Upholding the norm", "norm"),
    ("Regional initiatives", "regional"),
    ("Cooperation and assistance", "cooperation"),
    ("Affected and stockpiling states", "affected"),
    ("Promotion and presidency", "promotion"),
]
ARTICLES = [(1, "General obligations"), (3, "Stockpile destruction"), (4, "Clearance")]
ARTICLES += [(5, "Victim assistance"), (6, "International cooperation and assistance")]
ARTICLES += [(8, "Facilitation and clarification of compliance"), (21, "Relations")]

BENCH_STAFF = "bench-staff"
FOLLOW_UPS_PER_COMMITMENT = 25
# Each follow-up moved the commitment's version by one, as record_follow_up does.
VERSION_AFTER_BUILD = 1 + FOLLOW_UPS_PER_COMMITMENT
BENCH_PASSWORD = "bench-password-not-secret"  # noqa: S105 - a throwaway bench database


def build(scale: float, seed: int = 2012) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from commitments.models import (
        STATUSES_BY_KIND,
        Article,
        Commitment,
        Delegation,
        FollowUp,
        Kind,
        Statement,
        Status,
        Theme,
    )

    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    call_command("migrate", verbosity=0, interactive=False)
    User = get_user_model()
    staff = [
        User.objects.create_superuser(f"{BENCH_STAFF}-{n}", f"s{n}@bench.invalid", BENCH_PASSWORD)
        for n in range(5)
    ]
    themes = Theme.objects.bulk_create(
        [Theme(name=name, slug=slug, position=n) for n, (name, slug) in enumerate(THEMES)]
    )
    articles = Article.objects.bulk_create([Article(number=n, title=t) for n, t in ARTICLES])
    statements_n = max(1, round(20 * scale))
    per_statement = 100
    follow_ups_per = FOLLOW_UPS_PER_COMMITMENT
    today = datetime.date.today()

    statements, commitments, follow_ups = [], [], []
    for s in range(statements_n):
        date = datetime.date(2012 + s % 12, 1 + s % 12, 1 + s % 28)
        sentences = [
            f"Statement {s} commits, in point {i}, to action {rng.randint(1, 10**6)} on "
            f"universalisation of the Convention on Cluster Munitions."
            for i in range(per_statement)
        ]
        paragraphs = ["Thank you, Chair."]
        paragraphs += [f"{sentence} We will report back." for sentence in sentences]
        paragraphs += ["Thank you."]
        statements.append(
            Statement(
                title=f"Bench statement {s}",
                slug=f"bench-{s:02d}",
                delegation=Delegation.objects.get_or_create(
                    code=f"B{s:02d}",
                    defaults={"kind": Delegation.Kind.ORGANISATION, "name_en": f"Delegation {s}"},
                )[0],
                meeting="Intersessional meetings",
                place="Geneva",
                date=date,
                text="\n\n".join(paragraphs),
            )
        )
    Statement.objects.bulk_create(statements)
    span = {}
    for statement in statements:
        for i in range(per_statement):
            kind = Kind.CONTINUOUS if i % 3 == 0 else Kind.ONE_OFF
            commitment = Commitment(
                statement=statement,
                theme=themes[i % len(themes)],
                reference=f"{statement.delegation.code}-{i:03d}",
                title=f"Commitment {i} of {statement.title}",
                quote=statement.text.split("\n\n")[i + 1].removesuffix(" We will report back."),
                kind=kind,
                weight=1 + i % 3,
                owner=staff[i % len(staff)],
                next_review=today + datetime.timedelta(days=rng.randint(-200, 200)),
            )
            days = (today - statement.date).days
            dates = sorted(
                statement.date + datetime.timedelta(days=rng.randint(0, days))
                for _ in range(follow_ups_per)
            )
            choices = [s for s in STATUSES_BY_KIND[kind] if s != Status.NOT_ASSESSED]
            history = []
            for n, happened_on in enumerate(dates):
                status = rng.choice(choices)
                history.append(
                    FollowUp(
                        commitment=commitment,
                        status=status,
                        progress=None if n % 4 else rng.randint(0, 100),
                        happened_on=happened_on,
                        public_note=f"Follow-up {n} on {commitment.reference}: met and reported.",
                        internal_note=f"Internal {n} (never public)",
                        evidence_url="https://example.org/evidence" if n % 2 else "",
                        author=staff[n % len(staff)],
                    )
                )
            commitment.version = 1 + len(history)
            commitments.append(commitment)
            span[commitment.reference] = history
    Commitment.objects.bulk_create(commitments, batch_size=500)
    Through = Commitment.articles.through
    Through.objects.bulk_create(
        [
            Through(commitment_id=c.pk, article_id=articles[n % len(articles)].pk)
            for n, c in enumerate(commitments)
        ],
        batch_size=1000,
    )
    for commitment in commitments:
        for follow_up in span[commitment.reference]:
            follow_up.commitment = commitment
            follow_ups.append(follow_up)
    FollowUp.objects.bulk_create(follow_ups, batch_size=2000)
    # The database's triggers marked every commitment as written: derive their stored state and
    # the progress history now, in one go, rather than on the first request.
    from commitments.derived import sync

    sync()
    return {
        "statements": len(statements),
        "commitments": len(commitments),
        "follow_ups": len(follow_ups),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to the bench database (never the development one).")
    print(build(args.scale))


if __name__ == "__main__":
    main()
