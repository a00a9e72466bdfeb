"""Standing fixtures: a small county with two towns, three villages and one user per role.

`world.users` holds: county, town (锦屏镇), village (李家湾村), village2 (青龙村, same town),
other_town (新市镇 staff), other_village (a village of 新市镇), clinic (锦屏镇卫生院, whose account
belongs to the 卫生院 department `world.clinic`), police (锦屏镇派出所), justice (锦屏镇司法所). Tests log in with `client.force_login(world.users["village"])`.
"""

from types import SimpleNamespace

import pytest

from tests.factories import make_world


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def login(client):
    """login(user) → the client, logged in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def ns():
    return SimpleNamespace


@pytest.fixture
def world_with_work():
    """The standing world plus the things each role's pages show: an elder with a family, a
    visit, a case referred to the police, a pairing and a health check."""
    from relief.choices import ReliefCaseStatus
    from tests.factories import make_elder, make_guardian, make_world
    from tests.relief.factories import make_case
    from tests.visits.factories import make_visit

    world = make_world()
    elder = make_elder(world.village, name="王秀英", age=82, phones=["13912345678"], living="alone",
                       responsible_worker=world.users["village"])
    make_guardian(elder, name="张建华")
    make_visit(elder, world.users["village"], days_ago=40)
    make_case(world, status=ReliefCaseStatus.REFERRED, elder=elder)
    make_case(world, elder=make_elder(world.village2, name="李桂兰", age=76), village=world.village2)
    return world
