import datetime
import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q

from commitments.data import add_missing_meetings
from commitments.models import (
    UNIVERSALISATION,
    Article,
    Commitment,
    Delegation,
    Kind,
    Meeting,
    State,
    Statement,
    Theme,
)
from commitments.records import changed

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"
STATES = Path(__file__).resolve().parents[2] / "data" / "states.json"
# {"themes": {slug: {language: {field: text}}}, "articles": {number: …}, "statements": {slug: …},
# "commitments": {reference: …}}: the seed's French and Spanish versions.
TRANSLATIONS = json.loads((SEED_DIR / "translations.json").read_text(encoding="utf-8"))


def translated(kind, key):
    """The seed's versions of one record in the other languages, as field values:
    {"title_fr": …, "title_es": …}."""
    return {
        f"{field}_{language}": text
        for language, fields in TRANSLATIONS[kind].get(str(key), {}).items()
        for field, text in fields.items()
    }


# English here; the French and Spanish versions are in seed/translations.json, loaded beside
# them (TRANSLATIONS): content is entered side by side, as staff do in the admin.
ARTICLES = {
    1: "General obligations and scope of application",
    3: "Storage and stockpile destruction",
    4: "Clearance and destruction of cluster munition remnants",
    5: "Victim assistance",
    6: "International cooperation and assistance",
    8: "Facilitation and clarification of compliance",
    21: "Relations with States not party to this Convention",
}

THEMES = [
    (
        UNIVERSALISATION,
        "Universalisation",
        "Ratification and accession by more states.",
    ),
    (
        "norm",
        "Upholding the norm",
        "Condemning any use; allegations of use and clarification.",
    ),
    ("regional", "Regional initiatives", "Regional approaches to universalisation."),
    (
        "cooperation",
        "Cooperation and assistance",
        "Article 6 and working in partnership.",
    ),
    (
        "affected-states",
        "Affected and stockpiling states",
        "Clearance, victim assistance and stockpile destruction.",
    ),
    (
        "promotion",
        "Promotion and presidency",
        "Promoting the Convention in every forum.",
    ),
]

NORWAY_2012 = {
    "slug": "norway-2012-04-16-universalisation",
    "file": "2012-04-16-norway-ccm-universalisation.txt",
    "title": "Norwegian statement on universalisation",
    "delegation": ("NO", "NOR"),  # the state (ISO 3166 alpha-2) and its code in references
    "meeting": "Convention on Cluster Munitions, intersessional meetings, April 2012",
    "convention_meeting": "IM2012",  # Meeting.code (commitments/data/meetings.json)
    "place": "Geneva",
    "date": datetime.date(2012, 4, 16),
    "language": "en",
}

# (reference, theme, kind, articles, title, exact quote)
NORWAY_2012_COMMITMENTS = [
    (
        "NOR-2012-01", "universalisation", Kind.CONTINUOUS, [21],
        "Continuous work needed for more ratifications and new accessions",
        "Continuous work is necessary to ensure even more ratifications, to ensure new "
        "accessions",
    ),
    (
        "NOR-2012-02", "norm", Kind.CONTINUOUS, [1, 21],
        "Upholding the norm that any use is unacceptable and will be condemned",
        "to uphold the norm that any use of this weapon is unacceptable and will be condemned",
    ),
    (
        "NOR-2012-03", "norm", Kind.CONTINUOUS, [1, 8],
        "Allegations of use must be taken seriously and demand clarification; actual users should "
        "face the consequences",
        "These allegations must be taken most seriously, as it was pointed out by the "
        "Presidency of the 2MSP earlier today. Allegations demand clarifications. Actual users "
        "should face the consequences any use of an illegitimate weapon deserves.",
    ),
    (
        "NOR-2012-04", "universalisation", Kind.CONTINUOUS, [21],
        "Identifying the specific obstacles that keep individual states out, and solutions case by "
        "case",
        "We agree that it is important to identify specific obstacles that prevent individual "
        "states from wishing to join the Convention, or specific obstacles that prevent states "
        "from giving high priority to going through the necessary legal procedures. And it is "
        "important to focus on what solutions can be found in these individual cases.",
    ),
    (
        "NOR-2012-05", "cooperation", Kind.CONTINUOUS, [6, 21],
        "Working in partnership between states and organisations is proving most effective",
        "Again, working in partnership between states and organisations is proving most "
        "effective.",
    ),
    (
        "NOR-2012-06", "affected-states", Kind.CONTINUOUS, [1, 3, 4, 5],
        "The main focus should be on affected and stockpiling states: no use, faster clearance, "
        "victim assistance",
        "The main focus should be on states that are affected, and on states that have "
        "stockpiles of cluster munitions, ensuring that cluster munitions will not be used, and "
        "ensuring that clearance efforts will accelerate and victims be given appropriate "
        "assistance.",
    ),
    (
        "NOR-2012-07", "regional", Kind.ONE_OFF, [6, 21],
        "Interest in looking at how to support and facilitate regional universalisation and "
        "implementation initiatives",
        "We are therefore interested in looking at how we can support and facilitate such "
        "regional initiatives furthering both the universalisation and the implementation of "
        "the Convention.",
    ),
    (
        "NOR-2012-08", "cooperation", Kind.CONTINUOUS, [6],
        "Compliance with Article 6 helps show the Convention works; all states encouraged to "
        "assist others' implementation",
        "Compliance with Article 6 on Cooperation and Assistance will help ensure this, and we "
        "encourage all states to work with other states and partners to assist their "
        "implementation efforts.",
    ),
    (
        "NOR-2012-09", "promotion", Kind.CONTINUOUS, [21],
        "Promote the Convention in bilateral meetings and multilateral fora, at political and "
        "working level",
        "Norway continues to promote the Convention on Cluster Munitions in both bilateral "
        "meetings and in multilateral fora, at political level and at working level.",
    ),
    (
        "NOR-2012-10", "promotion", Kind.ONE_OFF, [21],
        "Universalisation to be given high priority by the incoming Norwegian presidency (3MSP)",
        "Universalisation of the Convention will be given high priority by the incoming "
        "Norwegian presidency.",
    ),
]  # fmt: skip


# How each commitment is judged, in public (its page, the exports): `reading` where its words
# are not a plain promise of Norway's own; `criteria`, one line a status its kind can take
# (commitments/criteria.py). Migration 0009 gave them to trackers seeded before they existed.
NORWAY_2012_ASSESSMENT = {
    "NOR-2012-01": {
        "reading": (
            "Norway states this as a need (“continuous work is necessary”), not as a "
            "promise. The tracker reads it as Norway's own continuing work for more "
            "ratifications and accessions, and judges it by what Norway is recorded doing, not "
            "by how many states join."
        ),
        "criteria": [
            "Off track: No Norwegian action promoting ratification or accession has been "
            "recorded in the last 12 months.",
            "On track: At least one Norwegian action promoting ratification or accession (a "
            "démarche, event, statement or funded project) recorded in the last 12 months, "
            "with a source.",
        ],
    },
    "NOR-2012-02": {
        "reading": (
            "It ends the sentence NOR-2012-01 begins: “Continuous work is necessary … to "
            "uphold the norm”, a need rather than a promise. The tracker reads it as Norway's "
            "own continuing work to uphold the norm, and judges it by Norway's recorded "
            "condemnations of use."
        ),
        "criteria": [
            "Off track: In the last 12 months a use of cluster munitions was reported without a "
            "recorded Norwegian condemnation, or Norway is not recorded restating the norm at "
            "all.",
            "On track: In the last 12 months Norway is recorded, with a source, condemning every "
            "reported use of cluster munitions, or restating the norm where no use was reported.",
        ],
    },
    "NOR-2012-03": {
        "reading": (
            "Norway says what allegations demand rather than promising a step of its own. The "
            "tracker reads it as a continuing commitment to respond to each allegation, and "
            "judges it by Norway's recorded responses."
        ),
        "criteria": [
            "Off track: An allegation of use made in the last 12 months has no recorded "
            "Norwegian call for clarification, or a confirmed use has no recorded Norwegian call "
            "for consequences.",
            "On track: For each allegation of use made in the last 12 months, Norway is "
            "recorded, with a source, calling for clarification, and for consequences where use "
            "was confirmed.",
        ],
    },
    "NOR-2012-04": {
        "reading": (
            "Norway agrees this is important (“we agree that it is important”) rather "
            "than promising to do it. The tracker reads it as a continuing commitment to work on "
            "named states' obstacles, and judges it by Norway's recorded engagement with them."
        ),
        "criteria": [
            "Off track: No Norwegian engagement with a named state's specific obstacles to "
            "joining or ratifying has been recorded in the last 12 months.",
            "On track: In the last 12 months Norway is recorded, with a source, addressing a "
            "named state's specific obstacles to joining or ratifying (talks, legal or technical "
            "assistance, or a funded study).",
        ],
    },
    "NOR-2012-05": {
        "reading": (
            "Norway states this as an observation (“is proving most effective”), not "
            "as a promise. The tracker reads it as a continuing commitment to work on the "
            "Convention in partnership with other states and organisations, and judges it by "
            "joint work recorded with a source."
        ),
        "criteria": [
            "Off track: No joint work by Norway with other states or organisations on the "
            "Convention has been recorded in the last 12 months.",
            "On track: At least one activity for the Convention carried out by Norway with other "
            "states or organisations (a co-hosted event, joint démarche or funded partner "
            "project) recorded in the last 12 months, with a source.",
        ],
    },
    "NOR-2012-06": {
        "reading": (
            "Norway says where the focus should be, not what it will do. The tracker reads it as "
            "Norway directing its own work at affected and stockpiling states, and judges it by "
            "Norway's recorded support for them."
        ),
        "criteria": [
            "Off track: No Norwegian support to an affected or stockpiling state (for clearance, "
            "stockpile destruction, victim assistance or joining the Convention) has been "
            "recorded in the last 12 months.",
            "On track: In the last 12 months Norway is recorded, with a source, supporting at "
            "least one affected or stockpiling state in clearance, stockpile destruction, victim "
            "assistance or joining the Convention.",
        ],
    },
    "NOR-2012-07": {
        "reading": (
            "An expressed interest (“we are therefore interested in looking at how we can "
            "support…”), weaker than a promise to support. The tracker reads it as a "
            "one-off: achieved once Norway is recorded supporting or facilitating a regional "
            "initiative, or saying how it will."
        ),
        "criteria": [
            "Not started: No Norwegian step towards supporting or facilitating a regional "
            "universalisation or implementation initiative has been recorded.",
            "Off track: Norway is recorded deciding against such support, or no step has "
            "followed an exploratory one for 12 months.",
            "In progress: Norway is recorded, with a source, exploring support for a named "
            "regional initiative (consultations, a scoping visit or an offer to host).",
            "Achieved: Norway is recorded, with a source, supporting or facilitating at least "
            "one named regional initiative (funding, hosting or co-organising it), or announcing "
            "how it will.",
        ],
    },
    "NOR-2012-08": {
        "reading": (
            "Norway states what compliance with Article 6 will achieve, and encourages other "
            "states. The tracker reads it as a continuing commitment to give cooperation and "
            "assistance itself and to encourage others to, and judges it by both."
        ),
        "criteria": [
            "Off track: In the last 12 months no Norwegian assistance to another state's "
            "implementation, or no Norwegian call on other states to assist, has been recorded.",
            "On track: In the last 12 months Norway is recorded, with a source, assisting "
            "another state's implementation under Article 6 (e.g. in its Article 7 transparency "
            "report) and encouraging other states to assist too.",
        ],
    },
    "NOR-2012-09": {
        "reading": "",
        "criteria": [
            "Off track: In the last 12 months no Norwegian promotion of the Convention has been "
            "recorded in a bilateral meeting, or none in a multilateral forum.",
            "On track: In the last 12 months Norway is recorded, with a source, promoting the "
            "Convention in at least one bilateral meeting and in at least one multilateral forum "
            "(e.g. the UN General Assembly's First Committee).",
        ],
    },
    "NOR-2012-10": {
        "reading": (
            "Norway presided over the Convention from the Third Meeting of States Parties (Oslo, "
            "September 2012) until the Fourth (Lusaka, September 2013). The tracker judges this "
            "commitment by what that presidency set out and did on universalisation."
        ),
        "criteria": [
            "Not started: The Norwegian presidency has not begun, or nothing it set out or did "
            "on universalisation has been recorded.",
            "Off track: The presidency's published priorities or report leave universalisation "
            "out, or record no action on it.",
            "In progress: During the presidency Norway is recorded, with a source, naming "
            "universalisation as a priority or acting on it (e.g. outreach to states not party).",
            "Achieved: The presidency's priorities and its report to the Fourth Meeting of "
            "States Parties, with a source, show universalisation as a high priority with action "
            "taken on it.",
        ],
    },
}


def statement_text(filename):
    """The statement as delivered: the file less its heading lines, which become fields."""
    raw = (SEED_DIR / filename).read_text(encoding="utf-8")
    start = raw.index("Thank you, Chair.")
    return raw[start:].strip()


def state_delegation(country, code):
    """The state's delegation: the one staff may already have (by its state or its code),
    else a new one."""
    # Every state is there (migration 0014); a test database emptied since gets it back.
    regions = json.loads(STATES.read_text(encoding="utf-8"))["states"]
    region = next(row["region"] for row in regions if row["country"] == country)
    state, _new = State.objects.get_or_create(country=country, defaults={"region": region})
    found = Delegation.objects.filter(Q(state=state) | Q(code=code)).first()
    return found or Delegation.objects.create(kind=Delegation.Kind.STATE, state=state, code=code)


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
                number=number, defaults={"title_en": title, **translated("articles", number)}
            )
            created += new
        themes = {}
        for position, (slug, name, description) in enumerate(THEMES):
            # A theme whose slug or name staff changed is still the seeded one.
            themes[slug] = Theme.objects.filter(Q(slug=slug) | Q(name_en=name)).first()
            if themes[slug] is None:
                themes[slug] = Theme.objects.create(
                    slug=slug,
                    name_en=name,
                    description_en=description,
                    position=position,
                    **translated("themes", slug),
                )
                created += 1
        # The meetings are the migration's (one list, data/meetings.json); a database
        # emptied since (e.g. by a test's flush) gets the missing ones back.
        created += add_missing_meetings(Meeting)
        created += self.load_statement(
            NORWAY_2012, NORWAY_2012_COMMITMENTS, NORWAY_2012_ASSESSMENT, themes, articles
        )
        changed()
        self.stdout.write(f"Seed loaded: {created} new record(s), nothing else changed.")

    def load_statement(self, fields, rows, assessments, themes, articles):
        """The statement and its commitments, once: if the statement or any of its commitments
        is there, it was loaded before, and whatever staff renamed or deleted stays so."""
        references = [row[0] for row in rows]
        if (
            Statement.objects.filter(slug=fields["slug"]).exists()
            or Commitment.objects.filter(reference__in=references).exists()
        ):
            return 0
        statement = Statement.objects.create(
            **{
                f"{k}_en" if k in ("title", "meeting", "place") else k: v
                for k, v in fields.items()
                if k not in ("file", "delegation", "convention_meeting")
            },
            delegation=state_delegation(*fields["delegation"]),
            # The meetings come with the migrations; one an administrator removed stays so.
            convention_meeting=Meeting.objects.filter(
                code=fields.get("convention_meeting", "")
            ).first(),
            text=statement_text(fields["file"]),
            **translated("statements", fields["slug"]),
        )
        for reference, theme, kind, numbers, title, quote in rows:
            assessment = assessments.get(reference, {})
            commitment = Commitment(
                statement=statement,
                theme=themes[theme],
                reference=reference,
                # By column: whatever language a command runs in, this is the English.
                title_en=title,
                quote=quote,
                kind=kind,
                reading_en=assessment.get("reading", ""),
                criteria_en="\n".join(assessment.get("criteria", [])),
                **translated("commitments", reference),
            )
            commitment.full_clean()
            commitment.save()
            commitment.articles.set([articles[n] for n in numbers])
        return 1 + len(rows)
