"""Care homes (养老机构) on the register: the town registers the township 敬老院; a village worker
records that 王秀英 moved in (状态变更 → 入住养老机构, the home, the move-in date); the profile, the
老人名册, the ledger export, the admin and the clinic's health-management list all show where she
lives and since when. Bad input — no home, a home outside reach, a date in the future or before
birth — is refused in Chinese and nothing is stored; the admin changes status through the same
service (policy 二(五): 卫生院与养老机构合作，为入住养老机构的老人提供慢性病管理)."""

from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from registry import services
from registry.models import CareHome, Elder, ElderStatusChange
from tests.factories import make_elder, make_id_number
from tests.matrix import shown

pytestmark = pytest.mark.django_db


@pytest.fixture
def homes(world):
    """The township 敬老院 (serves every village of 锦屏镇) and one in the other town."""
    town_home = CareHome.objects.create(name="锦屏镇敬老院", area=world.town, phone="0831-1234567")
    other_home = CareHome.objects.create(name="新市镇中心敬老院", area=world.other_town)
    return town_home, other_home


def move_in(client, elder, **data):
    return client.post(reverse("registry:elder_status", args=[elder.pk]), {
        "to_status": "institution", "reason": "子女外出务工，自愿入住", **data})


def nothing_stored(elder):
    stored = Elder.objects.get(pk=elder.pk)
    return stored.status == "active" and stored.care_home_id is None and not ElderStatusChange.objects.exists()


def test_moving_into_a_care_home_story(login, world, homes):
    town_home, _other = homes
    elder = make_elder(world.village, name="王秀英", age=78, male=False)
    moved_in = timezone.localdate() - timedelta(days=12)
    client = login(world.users["village"])

    # the village worker opens 变更状态: the township home is offered, the other town's is not
    form = client.get(reverse("registry:elder_status", args=[elder.pk])).content.decode()
    assert "入住的养老机构" in form and "锦屏镇敬老院" in form and "新市镇中心敬老院" not in form
    response = move_in(client, elder, care_home=town_home.pk, changed_on=moved_in.isoformat())
    assert response.status_code == 302

    stored = Elder.objects.get(pk=elder.pk)
    assert (stored.status, stored.care_home, stored.moved_in_on) == ("institution", town_home, moved_in)
    change = ElderStatusChange.objects.get(elder=elder)
    assert (change.to_status, change.care_home, change.changed_on) == ("institution", town_home, moved_in)

    # the profile says where and since when
    profile = client.get(reverse("registry:elder", args=[elder.pk])).content.decode()
    assert "锦屏镇敬老院" in profile and moved_in.strftime("%Y-%m-%d") in profile and "入住" in profile
    # the 老人名册 lists her under 入住养老机构 with the home, and filters by home
    register = client.get(reverse("registry:elders"), {"status": "institution"}).content.decode()
    assert "王秀英" in register and "锦屏镇敬老院" in register
    by_home = client.get(reverse("registry:elders"), {"status": "institution", "home": town_home.pk}).content.decode()
    assert "王秀英" in by_home
    assert "王秀英" not in client.get(reverse("registry:elders")).content.decode()  # not 在册 at home

    # the town's desk: the admin's list and the ledger
    town = login(world.users["town"])
    changelist = town.get(reverse("admin:registry_elder_changelist"), {"status": "institution"}).content.decode()
    assert "王秀英" in changelist and "锦屏镇敬老院" in changelist
    ledger = town.get(reverse("admin:registry_elder_export"), {"status": "institution"})
    sheet = load_workbook(BytesIO(ledger.getvalue())).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["姓名"], row["入住养老机构"], row["入住日期"]) == ("王秀英", "锦屏镇敬老院", moved_in.isoformat())

    # the clinic keeps her on its 65+ list, with the home named (its doctors go there)
    worklist = login(world.users["clinic"]).get(reverse("services:clinic_worklist")).content.decode()
    assert "王秀英" in worklist and "锦屏镇敬老院" in worklist


@pytest.mark.parametrize(("data", "message"), [
    ({}, "请选择入住的养老机构"),
    ({"changed_on": "FUTURE"}, "入住日期不能晚于今天"),
    ({"changed_on": "1940-01-01"}, "入住日期不能早于老人出生"),
    ({"care_home": "OTHER"}, "不在您辖区可选的养老机构中"),
])
def test_bad_move_in_input_is_refused_in_chinese_and_nothing_is_stored(login, world, homes, data, message):
    town_home, other_home = homes
    elder = make_elder(world.village, name="王秀英", id_number=make_id_number(date(1950, 3, 12), male=False))  # born 1950-03-12
    data = {"care_home": town_home.pk, "changed_on": timezone.localdate().isoformat(), **data}
    if data["changed_on"] == "FUTURE":
        data["changed_on"] = (timezone.localdate() + timedelta(days=1)).isoformat()
    if data["care_home"] == "OTHER":
        data["care_home"] = other_home.pk
    if not data.get("care_home") or message.startswith("请选择"):
        data.pop("care_home")
    response = move_in(login(world.users["village"]), elder, **data)
    assert response.status_code == 200 and message in response.content.decode()
    assert "子女外出务工" in response.content.decode()  # the input is kept
    assert nothing_stored(elder)


def test_a_home_chosen_for_another_status_is_refused(login, world, homes):
    elder = make_elder(world.village, name="王秀英")
    response = login(world.users["village"]).post(reverse("registry:elder_status", args=[elder.pk]), {
        "to_status": "moved", "care_home": homes[0].pk, "changed_on": timezone.localdate().isoformat(),
        "reason": "随子女迁出"})
    assert "只有变更为“入住养老机构”时才选择养老机构" in response.content.decode()
    assert nothing_stored(elder)


def test_the_service_refuses_a_home_out_of_reach_or_closed_whoever_calls_it(world, homes):
    town_home, other_home = homes
    elder = make_elder(world.village, name="王秀英")
    user = world.users["village"]
    for home in (other_home, None):
        with pytest.raises(ValidationError):
            services.change_status(elder, to_status="institution", changed_on=timezone.localdate(), reason="入住",
                                   care_home=home, acting_user=user)
    CareHome.objects.filter(pk=town_home.pk).update(active=False)
    with pytest.raises(ValidationError, match="已停办"):
        services.change_status(elder, to_status="institution", changed_on=timezone.localdate(), reason="入住",
                               care_home=CareHome.objects.get(pk=town_home.pk), acting_user=user)
    assert nothing_stored(elder)


def test_moving_to_another_home_and_back_home_keeps_the_history(world, homes):
    town_home, _other = homes
    village_home = CareHome.objects.create(name="李家湾村互助幸福院", area=world.village)
    elder = make_elder(world.village, name="王秀英")
    user, today = world.users["village"], timezone.localdate()
    services.change_status(elder, to_status="institution", changed_on=today - timedelta(days=30), reason="入住",
                           care_home=town_home, acting_user=user)
    with pytest.raises(ValidationError, match="已经是"):  # the same home again is no change
        services.change_status(elder, to_status="institution", changed_on=today, reason="重复", care_home=town_home,
                               acting_user=user)
    services.change_status(elder, to_status="institution", changed_on=today - timedelta(days=3), reason="转院",
                           care_home=village_home, acting_user=user)
    assert (Elder.objects.get(pk=elder.pk).care_home, Elder.objects.get(pk=elder.pk).moved_in_on) == (
        village_home, today - timedelta(days=3))
    services.change_status(elder, to_status="active", changed_on=today, reason="子女返乡，接回家住", acting_user=user)
    stored = Elder.objects.get(pk=elder.pk)
    assert stored.care_home is None and stored.moved_in_on is None
    assert [c.care_home for c in ElderStatusChange.objects.filter(elder=elder).order_by("created_at")] == [
        town_home, village_home, None]


def test_the_edit_form_and_the_admin_elder_form_cannot_set_the_home(login, world, homes):
    elder = make_elder(world.village, name="王秀英")
    client = login(world.users["town"])
    page = client.get(reverse("admin:registry_elder_change", args=[elder.pk])).content.decode()
    assert 'name="care_home"' not in page
    form = client.get(reverse("registry:elder_edit", args=[elder.pk])).content.decode()
    assert 'name="care_home"' not in form


def test_the_admin_status_change_goes_through_the_same_service(login, world, homes):
    town_home, other_home = homes
    elder = make_elder(world.village, name="王秀英")
    client = login(world.users["town"])
    url = reverse("admin:registry_elderstatuschange_add")
    today = timezone.localdate().isoformat()
    base = {"elder": elder.pk, "to_status": "institution", "changed_on": today, "reason": "入住"}
    response = client.post(url, base)
    assert response.status_code == 200 and "请选择入住的养老机构" in shown(response)
    response = client.post(url, {**base, "care_home": other_home.pk})
    assert response.status_code == 200 and other_home.name not in shown(response).split("errorlist")[0]
    assert nothing_stored(elder)
    response = client.post(url, {**base, "changed_on": (timezone.localdate() + timedelta(days=2)).isoformat(),
                                 "care_home": town_home.pk})
    assert response.status_code == 200 and "入住日期不能晚于今天" in shown(response)
    assert nothing_stored(elder)
    assert client.post(url, {**base, "care_home": town_home.pk}).status_code == 302
    stored = Elder.objects.get(pk=elder.pk)
    assert (stored.status, stored.care_home) == ("institution", town_home)
    change = ElderStatusChange.objects.get(elder=elder)
    assert (change.from_status, change.changed_by) == ("active", world.users["town"])
    # an elder out of the user's reach cannot be moved through the admin either
    theirs = make_elder(world.other_village, name="外镇老人")
    response = client.post(url, {**base, "elder": theirs.pk, "care_home": town_home.pk})
    assert response.status_code in (200, 404)
    assert Elder.objects.get(pk=theirs.pk).status == "active"


def test_care_homes_reach_up_village_staff_see_their_towns_home(login, world, homes):
    town_home, other_home = homes
    assert set(CareHome.objects.for_user(world.users["village"])) == {town_home}
    assert set(CareHome.objects.for_user(world.users["other_village"])) == {other_home}
    assert set(CareHome.objects.for_user(world.users["county"])) == {town_home, other_home}
    assert not CareHome.objects.for_user(world.users["police"]).exists()
    # the town registers homes in its own area only; a village worker cannot register one
    with pytest.raises(ValidationError):
        services.save_care_home(CareHome(name="越界养老院", area=world.other_town), acting_user=world.users["town"])
    assert not CareHome.objects.filter(name="越界养老院").exists()
    page = login(world.users["village"]).get(reverse("admin:registry_carehome_add"))
    assert page.status_code in (403, 404)


def test_an_elder_born_after_the_date_is_refused_even_when_the_form_is_bypassed(world, homes):
    elder = make_elder(world.village, name="王秀英", id_number=make_id_number(date(1950, 3, 12), male=False))
    with pytest.raises(ValidationError, match="不能早于老人出生"):
        services.change_status(elder, to_status="institution", changed_on=date(1950, 3, 11), reason="入住",
                               care_home=homes[0], acting_user=world.users["village"])
    assert nothing_stored(elder)
