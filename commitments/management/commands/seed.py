import datetime
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from commitments.models import Article, Commitment, Kind, Statement, Theme
from commitments.records import changed

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"

# Names and titles are in the interface's catalogues (gettext_noop), so French and Spanish
# pages show them translated; the database keeps them in English.
ARTICLES = {
    1: gettext_noop("General obligations and scope of application"),
    3: gettext_noop("Storage and stockpile destruction"),
    4: gettext_noop("Clearance and destruction of cluster munition remnants"),
    5: gettext_noop("Victim assistance"),
    6: gettext_noop("International cooperation and assistance"),
    8: gettext_noop("Facilitation and clarification of compliance"),
    21: gettext_noop("Relations with States not party to this Convention"),
}

THEMES = [
    (
        "universalisation",
        gettext_noop("Universalisation"),
        "Ratification and accession by more states.",
    ),
    (
        "norm",
        gettext_noop("Upholding the norm"),
        "Condemning any use; allegations of use and clarification.",
    ),
    ("regional", gettext_noop("Regional initiatives"), "Regional approaches to universalisation."),
    (
        "cooperation",
        gettext_noop("Cooperation and assistance"),
        "Article 6 and working in partnership.",
    ),
    (
        "affected-states",
        gettext_noop("Affected and stockpiling states"),
        "Clearance, victim assistance and stockpile destruction.",
    ),
    (
        "promotion",
        gettext_noop("Promotion and presidency"),
        "Promoting the Convention in every forum.",
    ),
]

NORWAY_2012 = {
    "slug": "norway-2012-04-16-universalisation",
    "file": "2012-04-16-norway-ccm-universalisation.txt",
    "title": "Norwegian statement on universalisation",
    "delegation": "Norway",
    "code": "NOR",
    "meeting": "Convention on Cluster Munitions, intersessional meetings, April 2012",
    "place": "Geneva",
    "date": datetime.date(2012, 4, 16),
    "language": "en",
}

# (reference, theme, kind, articles, title, exact quote)
NORWAY_2012_COMMITMENTS = [
    (
        "NOR-2012-01", "universalisation", Kind.CONTINUOUS, [21],
        "Work continuously for more ratifications and new accessions",
        "Continuous work is necessary to ensure even more ratifications, to ensure new "
        "accessions",
    ),
    (
        "NOR-2012-02", "norm", Kind.CONTINUOUS, [1, 21],
        "Uphold the norm: any use is unacceptable and will be condemned",
        "to uphold the norm that any use of this weapon is unacceptable and will be condemned",
    ),
    (
        "NOR-2012-03", "norm", Kind.CONTINUOUS, [1, 8],
        "Take allegations of use seriously and demand clarification",
        "These allegations must be taken most seriously, as it was pointed out by the "
        "Presidency of the 2MSP earlier today. Allegations demand clarifications. Actual users "
        "should face the consequences any use of an illegitimate weapon deserves.",
    ),
    (
        "NOR-2012-04", "universalisation", Kind.CONTINUOUS, [21],
        "Identify the obstacles keeping states out and find solutions case by case",
        "We agree that it is important to identify specific obstacles that prevent individual "
        "states from wishing to join the Convention, or specific obstacles that prevent states "
        "from giving high priority to going through the necessary legal procedures. And it is "
        "important to focus on what solutions can be found in these individual cases.",
    ),
    (
        "NOR-2012-05", "cooperation", Kind.CONTINUOUS, [6, 21],
        "Work in partnership between states and organisations",
        "Again, working in partnership between states and organisations is proving most "
        "effective.",
    ),
    (
        "NOR-2012-06", "affected-states", Kind.CONTINUOUS, [1, 3, 4, 5],
        "Focus on affected and stockpiling states: no use, faster clearance, victim assistance",
        "The main focus should be on states that are affected, and on states that have "
        "stockpiles of cluster munitions, ensuring that cluster munitions will not be used, and "
        "ensuring that clearance efforts will accelerate and victims be given appropriate "
        "assistance.",
    ),
    (
        "NOR-2012-07", "regional", Kind.ONE_OFF, [6, 21],
        "Support and facilitate regional universalisation and implementation initiatives",
        "We are therefore interested in looking at how we can support and facilitate such "
        "regional initiatives furthering both the universalisation and the implementation of "
        "the Convention.",
    ),
    (
        "NOR-2012-08", "cooperation", Kind.CONTINUOUS, [6],
        "Show the Convention works through Article 6; encourage all states to assist others",
        "Compliance with Article 6 on Cooperation and Assistance will help ensure this, and we "
        "encourage all states to work with other states and partners to assist their "
        "implementation efforts.",
    ),
    (
        "NOR-2012-09", "promotion", Kind.CONTINUOUS, [21],
        "Promote the Convention in bilateral meetings and multilateral fora",
        "Norway continues to promote the Convention on Cluster Munitions in both bilateral "
        "meetings and in multilateral fora, at political level and at working level.",
    ),
    (
        "NOR-2012-10", "promotion", Kind.ONE_OFF, [21],
        "Make universalisation a high priority of the Norwegian presidency (3MSP)",
        "Universalisation of the Convention will be given high priority by the incoming "
        "Norwegian presidency.",
    ),
]  # fmt: skip


def statement_text(filename):
    """The statement as delivered: the file less its heading lines, which become fields."""
    raw = (SEED_DIR / filename).read_text(encoding="utf-8")
    start = raw.index("Thank you, Chair.")
    return raw[start:].strip()


class Command(BaseCommand):
    help = (
        "Load the 2012 Norwegian statement and its commitments. Safe to run again: what it "
        "loaded before is the staff's, and is left as they edited it."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        articles = {}
        for number, title in ARTICLES.items():
            articles[number], new = Article.objects.get_or_create(
                number=number, defaults={"title": title}
            )
            created += new
        themes = {}
        for position, (slug, name, description) in enumerate(THEMES):
            # A theme whose slug or name staff changed is still the seeded one.
            themes[slug] = Theme.objects.filter(Q(slug=slug) | Q(name=name)).first()
            if themes[slug] is None:
                themes[slug] = Theme.objects.create(
                    slug=slug, name=name, description=description, position=position
                )
                created += 1
        created += self.load_statement(NORWAY_2012, NORWAY_2012_COMMITMENTS, themes, articles)
        changed()
        self.stdout.write(f"Seed loaded: {created} new record(s), nothing else changed.")

    def load_statement(self, fields, rows, themes, articles):
        """The statement and its commitments, once: if the statement or any of its commitments
        is there, it was loaded before, and whatever staff renamed or deleted stays so."""
        references = [row[0] for row in rows]
        if (
            Statement.objects.filter(slug=fields["slug"]).exists()
            or Commitment.objects.filter(reference__in=references).exists()
        ):
            return 0
        statement = Statement.objects.create(
            **{k: v for k, v in fields.items() if k != "file"},
            text=statement_text(fields["file"]),
        )
        for reference, theme, kind, numbers, title, quote in rows:
            commitment = Commitment(
                statement=statement,
                theme=themes[theme],
                reference=reference,
                title=title,
                quote=quote,
                kind=kind,
            )
            commitment.full_clean()
            commitment.save()
            commitment.articles.set([articles[n] for n in numbers])
        return 1 + len(rows)
