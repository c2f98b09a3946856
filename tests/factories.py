import datetime

import factory
from django.contrib.auth import get_user_model

from commitments.models import (
    Commitment,
    Delegation,
    Meeting,
    State,
    Statement,
    Theme,
    TreatyEvent,
)
from commitments.records import changed

STATEMENT_TEXT = (
    "Thank you, Chair.\n\n"
    "We will ratify the Convention this year. We continue to support clearance in affected "
    "states.\n\n"
    "Victims must be given appropriate assistance.\n\nThank you."
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("a-long-test-password")


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Theme {n}")
    slug = factory.Sequence(lambda n: f"theme-{n}")


class StatementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Statement

    title = "Statement on universalisation"
    slug = factory.Sequence(lambda n: f"statement-{n}")
    delegation = factory.SubFactory("tests.factories.DelegationFactory")
    meeting = "Intersessional meetings"
    place = "Geneva"
    date = datetime.date(2012, 4, 16)
    text = STATEMENT_TEXT


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    statement = factory.SubFactory(StatementFactory)
    theme = factory.SubFactory(ThemeFactory)
    reference = factory.Sequence(lambda n: f"TST-2012-{n:03d}")
    title = factory.Sequence(lambda n: f"Commitment {n}")
    quote = "We will ratify the Convention this year."

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Created as the admin or an import would: its derived state is written before the
        next read (commitments.records.changed)."""
        commitment = super()._create(model_class, *args, **kwargs)
        changed()
        return commitment


# States (issue 14). The migrations add the 197 states of commitments/data/states.json: a
# StateFactory finds a seeded one by its code rather than adding a second.
class StateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = State
        django_get_or_create = ["country"]

    country = "NO"
    region = "europe"


class TreatyEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatyEvent

    state = factory.SubFactory(StateFactory)
    kind = TreatyEvent.Kind.RATIFICATION
    date = datetime.date(2008, 12, 3)
    source_url = (
        "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-6&chapter=26"
    )


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"{n + 20}MSP")
    kind = Meeting.Kind.MEETING_OF_STATES_PARTIES
    name = factory.Sequence(lambda n: f"Meeting {n}")
    place = "Geneva"
    start = datetime.date(2013, 9, 9)
    end = datetime.date(2013, 9, 13)
    source_url = "https://www.clusterconvention.org/"


class DelegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delegation
        django_get_or_create = ["code"]

    kind = Delegation.Kind.ORGANISATION
    name = "Testland"
    code = "TST"
