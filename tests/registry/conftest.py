"""Register tests: the world's staff belong to their role groups (the admin needs the permissions)."""

import pytest
from django.contrib.auth.models import Group

from eldercare.roles import group_name


@pytest.fixture
def world(world):
    for user in world.users.values():
        group = Group.objects.filter(name=group_name(user.role)).first()
        if group is not None:
            user.groups.add(group)
    return world
