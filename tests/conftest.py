"""Standing fixtures: a small county with two towns, three villages and one user per role.

`world.users` holds: county, town (锦屏镇), village (李家湾村), village2 (青龙村, same town),
other_town (新市镇 staff), other_village (a village of 新市镇), clinic (锦屏镇卫生院),
police (锦屏镇派出所). Tests log in with `client.force_login(world.users["village"])`.
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
