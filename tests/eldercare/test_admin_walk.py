"""The admin walk: every registered admin, as every role, with every query parameter the admin
understands set to rows out of the user's reach, answers without naming any of them.

For each role the markers are the names (``str()``) of every row of every registered model that
the role's scoped queryset leaves out; the walk asks each admin's changelist (each filter lookup
it offers, and the lookups it must refuse), add form (each relation as a prefill, a malformed id,
``_changelist_filters``), change form and history of out-of-scope rows, every autocomplete and the
ledger export, and fails on a 500 or on any marker in an answer. New admins are walked as soon as
they are registered.
"""

import re
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.urls import reverse
from django.utils import timezone

from eldercare.admin import ScopedAdmin, scoped_queryset
from eldercare.models import Area, Department, DepartmentKind
from registry import services as registry_services
from registry.models import CareHome, Elder
from relief import services as relief_services
from tests.factories import make_elder, make_guardian, make_world
from tests.matrix import workbook_as_text
from tests.registry.helpers import agreement, contact
from tests.services.factories import (
    make_check,
    make_contract,
    make_item,
    make_pairing,
    make_provider,
    make_record,
    make_volunteer,
)
from tests.visits.factories import make_visit

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
# Lookups an attacker would try: a partial-ID probe, relation hops, and facts some roles may not see.
ATTACK_LOOKUPS = ["id_number__startswith", "id_number__regex", "id_number__contains", "elder__id_number__startswith",
                  "is_hardship", "is_hardship__exact", "dibao__exact", "elder__name__contains", "village__name__contains",
                  "pk__in", "id__gt"]
ROLES = ["village", "town", "clinic", "police", "other_village"]


def family(world, village, tag, reporter):
    """A village's worth of rows, every name carrying `tag`."""
    elder = make_elder(village, name=f"{tag}老人甲", phones=["13912345678"], self_care="disabled", living="alone",
                       dibao=True)
    moved = make_elder(village, name=f"{tag}老人乙")
    registry_services.change_status(moved, to_status="moved", changed_on=timezone.localdate(), reason="随子女迁出",
                                    acting_user=reporter)
    # a village's own care home with an elder living there: neither may show to another village
    home = CareHome.objects.create(name=f"{tag}幸福院", area=village)
    registry_services.change_status(make_elder(village, name=f"{tag}老人丙"), to_status="institution",
                                    changed_on=timezone.localdate(), reason=f"{tag}入住", care_home=home,
                                    acting_user=reporter)
    guardian = make_guardian(elder, name=f"{tag}赡养人")
    contact(elder, reporter, timezone.localdate(), guardian=guardian)
    agreement(elder, None, None, guardian=guardian, caregiver_name=f"{tag}受托人")
    observation = registry_services.record_duty_observation(
        elder, guardian=guardian, duty="care", fulfilment="partly", observed_on=timezone.localdate(),
        acting_user=reporter)
    registry_services.record_supervision(elder, guardian=guardian, supervised_on=timezone.localdate(), method="in_person",
                                         result="promised", observation=observation, acting_user=reporter)
    volunteer = make_volunteer(village, name=f"{tag}志愿者")
    provider = make_provider(village, name=f"{tag}服务社")
    item = make_item(Area.objects.get(code=village.code[:9]), name=f"{tag}助浴")
    make_pairing(volunteer, elder)
    make_record(elder, item, reporter, volunteer=volunteer, provider=provider)
    make_check(elder, reporter, clinic_name=f"{tag}卫生室")
    make_contract(elder, doctor_name=f"{tag}医生", clinic_name=f"{tag}卫生室")
    make_visit(elder, reporter, days_ago=3)
    relief_services.report_case(elder, case_type="major_hardship", urgency="normal", narrative=f"{tag}家中漏雨",
                                acting_user=reporter)
    return elder


@pytest.fixture
def walk_world():
    world = make_world()
    Department.objects.create(town=world.other_town, name="新市镇派出所", kind=DepartmentKind.POLICE)
    make_provider(world.county, name="屏山县老年协会")  # reaches down to every town
    family(world, world.village, "李家", world.users["village"])
    family(world, world.village2, "青龙", world.users["village2"])
    family(world, world.other_village, "石板", world.users["other_village"])
    return world


def out_of_scope(user):
    """(markers, {model: [pk, …]}) of the rows `user` may not see, over every registered model."""
    ancestors = {user.area.code[:n] for n in (6, 9, 12) if n <= len(user.area.code)}
    inside, outside, pks = set(), set(), {}
    for model in admin.site._registry:
        visible = scoped_queryset(model, user)
        visible_pks = set(visible.values_list("pk", flat=True))
        for obj in model._default_manager.all():
            if obj.pk in visible_pks or (model is Area and obj.pk in ancestors):
                inside.add(str(obj))
            else:
                outside.add(str(obj))
                pks.setdefault(model, []).append(str(obj.pk))
    return {m for m in outside - inside if CJK.search(m)}, pks


def relations(model):
    return [f for f in model._meta.get_fields()
            if f.is_relation and f.concrete and (f.many_to_one or f.many_to_many) and f.related_model in admin.site._registry]


class Walk:
    def __init__(self, client, user, markers, pks):
        self.client, self.user, self.markers, self.pks, self.problems, self.count = client, user, markers, pks, [], 0

    def get(self, url, params=None, expect=(200, 302, 400, 403, 404)):
        query = ("?" + urlencode(params, doseq=True)) if params else ""
        response = workbook_as_text(self.client.get(url + query))
        self.count += 1
        where = f"{self.user.username} GET {url}{query}"
        if response.status_code not in expect:
            self.problems.append(f"{where}: {response.status_code}")
            return response
        body = response.content.decode(errors="replace")
        leaked = sorted(m for m in self.markers if m in body)
        if leaked:
            self.problems.append(f"{where}: shows {leaked}")
        return response

    def some(self, model, n=2):
        return self.pks.get(model, [])[:n]


def walk_admin(walk, model, model_admin):
    opts = model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}"
    fields = relations(model)
    changelist = reverse(f"{name}_changelist")
    walk.get(changelist)
    # every lookup the admin admits, with out-of-scope values, then the lookups it must refuse
    request = walk.client.get(changelist).wsgi_request
    for lookup in sorted(model_admin.allowed_lookups(request)):
        path = lookup.split("__")[0]
        field = next((f for f in fields if f.name == path), None)
        walk.get(changelist, {lookup: (walk.some(field.related_model, 1) or ["1"])[0] if field else "1"})
    own = {f.name for f in model._meta.get_fields()}
    for lookup in ATTACK_LOOKUPS + [f.name for f in fields] + [f"{f.name}__in" for f in fields]:
        if lookup.split("__")[0] not in own | {"pk"}:
            continue
        field = next((f for f in fields if lookup.startswith(f.name)), None)
        value = ",".join(walk.some(field.related_model)) if field is not None else "5115"
        response = walk.get(changelist, {lookup: value or "1"})
        if response.status_code == 200 and lookup not in model_admin.allowed_lookups(request):
            walk.problems.append(f"{walk.user.username} {changelist}?{lookup}= was honoured")
    # the add form: every relation prefilled with rows out of reach, one at a time and all together
    add = reverse(f"{name}_add")
    prefill = {}
    for field in fields:
        for pk in walk.some(field.related_model, 1):
            walk.get(add, {field.name: pk})
            prefill[field.name] = pk
    walk.get(add, {field.name: "abc" for field in fields})
    if prefill:
        walk.get(add, prefill)
        walk.get(add, {"_changelist_filters": urlencode(prefill)})
    # change form and history of the model's own rows out of reach: 404, never a name
    for pk in walk.some(model, 1):
        walk.get(reverse(f"{name}_change", args=[pk]), expect=(404,))
        walk.get(reverse(f"{name}_history", args=[pk]), expect=(404,))
    # every autocomplete this model's relations could ask for
    for field in fields:
        for term in ("",):
            walk.get(reverse("admin:autocomplete"), {"app_label": opts.app_label, "model_name": opts.model_name,
                                                     "field_name": field.name, "term": term})


@pytest.mark.parametrize("role", ROLES)
def test_no_admin_page_names_a_row_out_of_reach(role, walk_world, client):
    user = walk_world.users[role]
    markers, pks = out_of_scope(user)
    assert "石板老人甲" in markers or role == "other_village"
    assert "李家老人甲" not in markers or role != "village"
    client.force_login(user)
    walk = Walk(client, user, markers, pks)
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, ScopedAdmin)
        walk_admin(walk, model, model_admin)
    export = reverse("admin:registry_elder_export")
    walk.get(export)
    for params in ({"status": "all"}, {"village__code__exact": walk.some(Area, 1) or ["x"]},
                   {"id_number__startswith": "5115"}, {"q": "石板"}, {"q": "青龙"}):
        walk.get(export, params)
    assert walk.count > 150
    assert walk.problems == []


def test_the_walk_sees_a_leak(walk_world, client, monkeypatch):
    """An admin whose raw-id box names the row it is given is caught: the walk can fail."""
    monkeypatch.setattr("eldercare.admin.ScopedRawIdWidget.label_and_url_for_value",
                        ForeignKeyRawIdWidget.label_and_url_for_value)
    monkeypatch.setattr(ScopedAdmin, "get_changeform_initial_data", ModelAdmin.get_changeform_initial_data)
    user = walk_world.users["town"]
    client.force_login(user)
    walk = Walk(client, user, *out_of_scope(user))
    walk.get(reverse("admin:services_servicerecord_add"), {"elder": walk.some(Elder, 1)[0]})
    assert len(walk.problems) == 1 and "石板老人" in walk.problems[0], walk.problems


def test_village_staff_see_neither_the_neighbour_village_nor_the_other_town(walk_world):
    markers, _ = out_of_scope(walk_world.users["village"])
    assert {"青龙老人甲", "石板老人甲", "石板老人甲 ← 石板受托人", "新市镇"} <= markers
    assert "屏山县老年协会" not in markers and "李家老人甲" not in markers and "锦屏镇" not in markers
