"""Every visits page as anonymous, out of scope and in scope (tests/matrix.py)."""

import pytest
from django.urls import reverse

from tests.factories import make_elder
from tests.matrix import AdminMatrix, PageMatrix
from tests.visits.factories import make_visit

pytestmark = pytest.mark.django_db

OUTSIDERS = ["village2", "other_town", "other_village", "clinic", "police", "justice"]


def overdue_elder(world):
    elder = make_elder(world.village, name="王秀英")
    make_visit(elder, world.users["village"], days_ago=40, notes="院坝有积水")
    return elder


class TestToday(PageMatrix):
    kind = "list"
    in_scope = ["village", "town"]
    out_of_scope = OUTSIDERS + ["county"]

    def make(self, world):
        return overdue_elder(world)

    def url(self, obj):
        return reverse("visits:today")

    def marker(self, obj):
        return obj.name


class TestRecordForm(PageMatrix):
    in_scope = ["village", "town"]
    out_of_scope = OUTSIDERS + ["county"]

    def make(self, world):
        return overdue_elder(world)

    def url(self, obj):
        return reverse("visits:record", args=[obj.pk])

    def marker(self, obj):
        return obj.name


class TestRecordPost(TestRecordForm):
    """Posting to an elder out of reach is a 404 too (and stores nothing)."""

    method = "post"

    def test_in_scope_users_see_it(self, client, world):
        pass  # a successful post is covered in test_recording.py

    def test_anonymous_is_sent_to_login(self, client, world):
        from visits.models import Visit

        super().test_anonymous_is_sent_to_login(client, world)
        assert Visit.objects.count() == 1  # only the factory's visit


class TestElderVisits(PageMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = OUTSIDERS

    def make(self, world):
        return overdue_elder(world)

    def url(self, obj):
        return reverse("visits:elder_visits", args=[obj.pk])

    def marker(self, obj):
        return obj.name


class TestVisitDetail(PageMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = OUTSIDERS

    def make(self, world):
        return make_visit(make_elder(world.village, name="王秀英"), world.users["village"], notes="院坝有积水")

    def url(self, obj):
        return reverse("visits:visit", args=[obj.pk])

    def marker(self, obj):
        return "院坝有积水"


class TestVisitEdit(TestVisitDetail):
    in_scope = ["village", "town"]
    out_of_scope = OUTSIDERS + ["county"]

    def url(self, obj):
        return reverse("visits:edit", args=[obj.pk])

    def marker(self, obj):
        return "王秀英"


class TestOverview(PageMatrix):
    kind = "list"
    in_scope = ["town", "county"]
    out_of_scope = ["village", "village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        return overdue_elder(world)

    def url(self, obj):
        return reverse("visits:overview")

    def marker(self, obj):
        return "李家湾村"


class TestPolicy(PageMatrix):
    kind = "list"  # other towns' staff get their own town's page, never this one
    in_scope = ["town"]
    out_of_scope = ["village", "village2", "other_town", "clinic", "police", "county"]

    def make(self, world):
        return world.town

    def url(self, obj):
        return reverse("visits:policy")

    def marker(self, obj):
        return "锦屏镇"


class TestReassign(PageMatrix):
    in_scope = ["town"]
    out_of_scope = ["village", "village2", "other_town", "clinic", "police", "county"]

    def make(self, world):
        return overdue_elder(world)

    def url(self, obj):
        return reverse("visits:reassign") + f"?village={obj.village_id}"

    def marker(self, obj):
        return obj.name


def _with_role_groups(world):
    """Admin access needs the role group's view permissions (seed_demo adds staff to them)."""
    from django.contrib.auth.models import Group

    from eldercare.roles import group_name, sync_role_groups

    sync_role_groups()
    for user in world.users.values():
        user.groups.add(Group.objects.get(name=group_name(user.role)))


class TestVisitAdmin(AdminMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        _with_role_groups(world)
        return make_visit(make_elder(world.village, name="王秀英"), world.users["village"])

    def marker(self, obj):
        return "王秀英"


class TestVisitPolicyAdmin(AdminMatrix):
    in_scope = ["town", "county"]
    out_of_scope = ["other_town", "village", "village2", "clinic", "police"]

    def make(self, world):
        from visits.models import VisitPolicy

        return VisitPolicy.objects.create(town=world.town, high_days=5)

    def marker(self, obj):
        return "锦屏镇"


class TestUrgentVisitRequestAdmin(AdminMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        from visits.services import request_urgent_visit

        elder = make_elder(world.village, name="王秀英")
        return request_urgent_visit(elder, reason="出院回家", acting_user=world.users["village"])

    def marker(self, obj):
        return "王秀英"
