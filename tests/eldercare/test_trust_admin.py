"""Issue 14, the admin's holes, each written as the attacker tries it: the request, then the
check that nothing leaked and nothing changed. (The walk over every admin is test_admin_walk.)"""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from registry import services as registry_services
from registry.models import ID_REGISTERED_ELSEWHERE, CareAgreement, Elder, ElderGuardian, ElderStatusChange, Guardian
from services.models import Provider, ServiceRecord
from tests.factories import make_elder, make_guardian, make_id_number
from tests.services.factories import make_item, make_provider

pytestmark = pytest.mark.django_db


def body(response):
    return response.content.decode()


# 1. Out-of-scope names through prefilled admin forms -------------------------------------------

@pytest.mark.parametrize("username, url_name", [
    ("village2", "admin:services_servicerecord_add"),
    ("village2", "admin:services_pairing_add"),
    ("village2", "admin:registry_contactevent_add"),
    ("village2", "admin:registry_careagreement_add"),
    ("town", "admin:services_healthcheck_add"),
    ("town", "admin:services_familydoctorcontract_add"),
    ("clinic", "admin:services_healthcheck_add"),
    ("clinic", "admin:services_familydoctorcontract_add"),
])
def test_a_prefilled_add_form_does_not_name_an_elder_out_of_reach(username, url_name, world, login):
    neighbour = make_elder(world.village, name="邻村王秀英")
    elsewhere = make_elder(world.other_village, name="外镇李桂兰")
    client = login(world.users[username])
    for elder in (neighbour, elsewhere) if username == "village2" else (elsewhere,):
        response = client.get(reverse(url_name), {"elder": elder.pk})
        assert response.status_code in (200, 404)
        assert elder.name not in body(response)
    # the same form with an id that does not exist answers the same way
    response = client.get(reverse(url_name), {"elder": 999999})
    assert response.status_code in (200, 404)


def test_a_malformed_prefill_or_choice_is_no_server_error(world, login):
    client = login(world.users["village"])
    for params in ({"guardian": "abc"}, {"elder": "abc"}, {"elder": "1 OR 1=1"}, {"guardian": "-1"}):
        assert client.get(reverse("admin:registry_careagreement_add"), params).status_code == 200
    elder = make_elder(world.village, name="王秀英")
    response = client.post(reverse("admin:registry_careagreement_add"), {
        "elder": elder.pk, "guardian": "abc", "caregiver_name": "赵受托"})
    assert response.status_code == 200
    assert not CareAgreement.objects.exists()


# 3. Full IDs and partial-ID lookups through the admin -------------------------------------------

@pytest.mark.parametrize("lookup", ["id_number__startswith", "id_number__regex", "id_number__contains",
                                    "id_number__endswith", "name__contains"])
def test_the_changelist_and_the_export_refuse_lookups_the_admin_does_not_offer(lookup, world, login):
    elder = make_elder(world.village, name="王秀英", id_number=make_id_number(area="511529"))
    client = login(world.users["town"])
    value = elder.id_number[:10] if lookup.startswith("id_number") else "王"
    response = client.get(reverse("admin:registry_elder_changelist"), {lookup: value})
    assert response.status_code == 400 and "王秀英" not in body(response)
    assert "无法处理这个请求" in body(response) and "Bad Request" not in body(response)  # the site's Chinese page
    response = client.get(reverse("admin:registry_elder_export"), {lookup: value})
    assert response.status_code == 400
    assert response.get("Content-Type", "").startswith("text/html")


def test_the_changelist_still_filters_by_what_it_shows(world, login):
    make_elder(world.village, name="王秀英")
    make_elder(world.village2, name="李桂兰")
    client = login(world.users["town"])
    page = body(client.get(reverse("admin:registry_elder_changelist"), {"village__code__exact": world.village.code}))
    assert "王秀英" in page and "李桂兰" not in page


def test_the_admin_change_form_shows_the_id_masked_and_keeps_it_on_save(world, login):
    elder = make_elder(world.village, name="王秀英")
    client = login(world.users["village"])
    page = body(client.get(reverse("admin:registry_elder_change", args=[elder.pk])))
    assert elder.id_number not in page
    assert elder.id_number[:6] + "********" + elder.id_number[-4:] in page
    guardian = make_guardian(elder, name="张建华", id_number=make_id_number(date(1975, 5, 5)))
    page = body(client.get(reverse("admin:registry_guardian_change", args=[guardian.pk])))
    assert guardian.id_number not in page and guardian.id_number[-4:] in page


# 4. Inference of a hidden fact -------------------------------------------------------------------

def test_clinic_staff_can_neither_see_nor_filter_key_targets(world, login):
    poor = make_elder(world.village, name="王秀英", age=82, dibao=True)
    other = make_elder(world.village, name="李桂兰", age=82)
    assert Elder.objects.get(pk=poor.pk).is_key_target and not Elder.objects.get(pk=other.pk).is_key_target
    client = login(world.users["clinic"])
    listing = body(client.get(reverse("registry:elders"), {"flag": "key_target"}))
    assert "王秀英" in listing and "李桂兰" in listing  # the filter is ignored, not applied
    assert "重点对象" not in listing and "经济困难" not in listing
    profile = body(client.get(reverse("registry:elder", args=[poor.pk])))
    assert "重点对象" not in profile and "经济困难" not in profile
    # the office still sees and filters it
    town = login(world.users["town"])
    listing = body(town.get(reverse("registry:elders"), {"flag": "key_target"}))
    assert "王秀英" in listing and "李桂兰" not in listing and "重点对象" in listing


# 6. Writes the pages forbid ----------------------------------------------------------------------

def test_town_staff_cannot_edit_a_county_provider_or_move_it_into_their_town(world, login):
    provider = make_provider(world.county, name="屏山县老年协会")
    client = login(world.users["town"])
    page = client.get(reverse("admin:services_provider_change", args=[provider.pk]))
    assert page.status_code == 200 and 'name="name"' not in body(page)  # read-only view
    response = client.post(reverse("admin:services_provider_change", args=[provider.pk]), {
        "name": "锦屏镇老年协会", "kind": provider.kind, "area": world.town.code, "active": "on"})
    assert response.status_code in (403, 404)
    provider.refresh_from_db()
    assert provider.name == "屏山县老年协会" and provider.area_id == world.county.code
    # their own provider they do change
    own = make_provider(world.town, name="锦屏镇志愿队")
    response = client.post(reverse("admin:services_provider_change", args=[own.pk]), {
        "name": "锦屏镇志愿服务队", "kind": own.kind, "area": world.town.code, "active": "on"})
    assert response.status_code == 302
    assert Provider.objects.get(pk=own.pk).name == "锦屏镇志愿服务队"


def test_a_county_catalogue_item_is_read_only_for_the_town(world, login):
    item = make_item(world.town, name="助浴服务")
    item_of_county = make_item(world.town, name="县统一助餐")
    type(item_of_county).objects.filter(pk=item_of_county.pk).update(town=world.county)
    client = login(world.users["town"])
    assert client.post(reverse("admin:services_serviceitem_change", args=[item_of_county.pk]), {
        "name": "改名", "category": item.category, "town": world.town.code, "fee": item.fee}).status_code in (403, 404)
    assert type(item).objects.get(pk=item_of_county.pk).name == "县统一助餐"


def test_the_county_reads_the_register_in_the_admin_and_changes_nothing(world, login):
    elder = make_elder(world.village, name="王秀英")
    guardian = make_guardian(elder, name="张建华")
    client = login(world.users["county"])
    assert client.get(reverse("admin:registry_elder_changelist")).status_code == 200
    assert client.get(reverse("admin:registry_elder_add")).status_code == 404
    for url_name in ("admin:registry_guardian_add", "admin:registry_careagreement_add",
                     "admin:registry_contactevent_add"):
        assert client.get(reverse(url_name)).status_code == 404, url_name
    response = client.post(reverse("admin:registry_elder_change", args=[elder.pk]), {"name": "改名"})
    assert response.status_code in (403, 404)
    response = client.post(reverse("admin:registry_careagreement_add"), {
        "elder": elder.pk, "guardian": guardian.pk, "caregiver_name": "赵受托"})
    assert response.status_code == 404
    assert Elder.objects.get(pk=elder.pk).name == "王秀英" and not CareAgreement.objects.exists()
    # nor on the pages
    assert client.get(reverse("registry:elder_edit", args=[elder.pk])).status_code == 404
    assert client.get(reverse("registry:elder_add")).status_code == 404


def test_an_agreement_whose_principal_is_not_the_elders_guardian_is_refused(world, login):
    elder = make_elder(world.village, name="王秀英")
    make_guardian(elder, name="张建华")
    stranger = make_guardian(make_elder(world.village, name="李桂兰"), name="李某某")
    client = login(world.users["village"])
    response = client.post(reverse("admin:registry_careagreement_add"), {
        "elder": elder.pk, "guardian": stranger.pk, "caregiver_name": "赵受托"})
    assert response.status_code == 200
    assert "委托人必须是这位老人的赡养人。" in body(response)
    assert 'value="赵受托"' in body(response)  # the input is kept
    assert not CareAgreement.objects.exists()


@pytest.mark.parametrize("minutes", ["0", "5000", "-5"])
def test_service_minutes_out_of_range_are_refused_in_the_admin(minutes, world, login):
    elder = make_elder(world.village, name="王秀英")
    item = make_item(world.town)
    client = login(world.users["village"])
    response = client.post(reverse("admin:services_servicerecord_add"), {
        "elder": elder.pk, "item": item.pk, "served_on": timezone.localdate().isoformat(),
        "duration_minutes": minutes})
    assert response.status_code == 200
    assert not ServiceRecord.objects.exists()
    assert "errornote" in body(response)


def test_a_service_record_for_an_elder_out_of_reach_is_refused(world, login):
    elder = make_elder(world.other_village, name="外镇李桂兰")
    item = make_item(world.town)
    client = login(world.users["village"])
    response = client.post(reverse("admin:services_servicerecord_add"), {
        "elder": elder.pk, "item": item.pk, "served_on": timezone.localdate().isoformat(), "duration_minutes": "60"})
    assert response.status_code == 200 and "外镇李桂兰" not in body(response)
    assert not ServiceRecord.objects.exists()


def elder_admin_form(village, **fields):
    data = {"village": village.code, "name": "王秀英", "id_number": "", "village_group": "", "ethnicity": "",
            "phones": "", "address": "", "living": "", "health": "", "self_care": "", "diseases": "",
            "monthly_income": "", "dibao": "unknown", "tekun": "unknown", "poverty_monitored": "unknown", "needs": "",
            "family_doctor": "unknown", "cadre": "", "surveyed_by": "", "surveyed_on": "", "notes": "",
            "guardian_links-TOTAL_FORMS": "0", "guardian_links-INITIAL_FORMS": "0",
            "guardian_links-MIN_NUM_FORMS": "0", "guardian_links-MAX_NUM_FORMS": "1000"}
    data.update(fields)
    return data


def test_the_admin_says_of_an_id_registered_elsewhere_what_the_page_form_says(world, login):
    number = make_elder(world.other_village, name="外镇李桂兰").id_number
    client = login(world.users["village"])
    response = client.post(reverse("admin:registry_elder_add"), elder_admin_form(world.village, id_number=number))
    page = body(response)
    assert response.status_code == 200
    assert str(ID_REGISTERED_ELSEWHERE) in page
    assert "已存在" not in page and "外镇李桂兰" not in page and "新市镇" not in page and "石板村" not in page
    assert Elder.objects.filter(id_number=number).count() == 1


# Status transitions --------------------------------------------------------------------------------

def test_a_deceased_elder_cannot_be_put_back_on_the_register(world, login):
    elder = make_elder(world.village, name="王秀英")
    user = world.users["village"]
    registry_services.change_status(elder, to_status="deceased", changed_on=timezone.localdate(), reason="病故",
                                    acting_user=user)
    client = login(user)
    response = client.post(reverse("registry:elder_status", args=[elder.pk]), {
        "to_status": "active", "changed_on": timezone.localdate().isoformat(), "reason": "误操作"})
    assert response.status_code == 200 and "“死亡”的老人不能变更为“在册”" in body(response)
    assert Elder.objects.get(pk=elder.pk).status == "deceased"
    assert ElderStatusChange.objects.filter(elder=elder).count() == 1
    # a move away and back is a move like any other
    moved = make_elder(world.village, name="李桂兰")
    registry_services.change_status(moved, to_status="moved", changed_on=timezone.localdate(), reason="迁出",
                                    acting_user=user)
    registry_services.change_status(moved, to_status="active", changed_on=timezone.localdate(), reason="迁回",
                                    acting_user=user)
    assert Elder.objects.get(pk=moved.pk).status == "active"


# 8. Races end in a form error, not a 500 ---------------------------------------------------------

def lose_the_id_race(monkeypatch):
    """Both sessions checked the ID before either saved: our checks see nothing, the insert collides."""
    calls = {"n": 0}
    real = registry_services.id_number_taken

    def checked_too_early(number, **kwargs):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(number, **kwargs)

    monkeypatch.setattr("registry.forms.id_number_taken", lambda number, **kwargs: None)
    monkeypatch.setattr("registry.services.id_number_taken", checked_too_early)


def test_two_pages_registering_the_same_id_the_loser_gets_a_form_error_with_the_input(world, login, monkeypatch):
    number = make_elder(world.village2, name="李桂兰").id_number  # the other session's row, just committed
    lose_the_id_race(monkeypatch)
    client = login(world.users["village"])
    response = client.post(reverse("registry:elder_add"), {"village": world.village.code, "name": "王秀英",
                                                           "id_number": number})
    assert response.status_code == 200
    page = body(response)
    assert str(ID_REGISTERED_ELSEWHERE) in page and 'value="王秀英"' in page
    assert Elder.objects.filter(id_number=number).count() == 1


def test_two_admins_registering_the_same_id_the_loser_gets_a_form_error_with_the_input(world, login, monkeypatch):
    number = make_elder(world.village, name="李桂兰").id_number
    lose_the_id_race(monkeypatch)
    client = login(world.users["village"])
    response = client.post(reverse("admin:registry_elder_add"), elder_admin_form(world.village, id_number=number,
                                                                                 name="王秀英"))
    assert response.status_code == 200
    page = body(response)
    assert "该身份证号已登记。" in page and 'value="王秀英"' in page
    assert Elder.objects.filter(id_number=number).count() == 1


def win_the_primary_race_for(rival):
    """Another session makes `rival` the primary guardian just before our insert."""
    manager = ElderGuardian.objects
    real_create = manager.create

    def create(**kwargs):
        ElderGuardian.objects.bulk_create([ElderGuardian(elder=kwargs["elder"], guardian=rival, relation="daughter",
                                                         is_primary=True)])
        manager.create = real_create
        return real_create(**kwargs)

    manager.create = create
    return lambda: setattr(manager, "create", real_create)


def test_two_pages_adding_a_primary_guardian_the_loser_gets_a_form_error_with_the_input(world, login):
    elder = make_elder(world.village, name="王秀英")
    rival = Guardian.objects.create(village=world.village, name="张小红")
    restore = win_the_primary_race_for(rival)
    try:
        client = login(world.users["village"])
        response = client.post(reverse("registry:guardian_add", args=[elder.pk]), {
            "name": "张建华", "phone": "13800001234", "relation": "son", "is_primary": "on"})
    finally:
        restore()
    assert response.status_code == 200
    page = body(response)
    assert "刚刚已有了另一位主要赡养人" in page and 'value="张建华"' in page
    # nothing of ours was stored (the rival's row, made inside our transaction here, went with it)
    assert not Guardian.objects.filter(name="张建华").exists()
    assert not ElderGuardian.objects.filter(elder=elder, guardian__name="张建华").exists()


def test_a_guardian_linked_in_the_admin_goes_through_the_register_and_one_stays_primary(world, login):
    elder = make_elder(world.village, name="王秀英")
    first = make_guardian(elder, name="张建华")
    second = Guardian.objects.create(village=world.village, name="张小红")
    client = login(world.users["village"])
    data = elder_admin_form(world.village, name="王秀英", **{
        "guardian_links-TOTAL_FORMS": "2", "guardian_links-INITIAL_FORMS": "1",
        "guardian_links-0-id": ElderGuardian.objects.get(elder=elder).pk, "guardian_links-0-elder": elder.pk,
        "guardian_links-0-guardian": first.pk, "guardian_links-0-relation": "son", "guardian_links-0-is_primary": "on",
        "guardian_links-1-elder": elder.pk, "guardian_links-1-guardian": second.pk,
        "guardian_links-1-relation": "daughter", "guardian_links-1-is_primary": "on"})
    del data["id_number"]
    response = client.post(reverse("admin:registry_elder_change", args=[elder.pk]), data)
    assert response.status_code == 302, body(response)[:3000]
    links = dict(ElderGuardian.objects.filter(elder=elder).values_list("guardian__name", "is_primary"))
    assert links == {"张建华": False, "张小红": True}



def test_maintainers_keep_every_admin_page(world, client):
    from django.contrib import admin

    from eldercare.models import User

    make_elder(world.village, name="王秀英")
    client.force_login(User.objects.create_superuser("root", password=None))
    for model in admin.site._registry:
        opts = model._meta
        assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200, opts
        # an admin without an add form (records written on the pages only) answers 404
        assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code in (200, 404), opts
        first = model._default_manager.first()
        if first is not None:
            response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
            assert response.status_code == 200, opts
