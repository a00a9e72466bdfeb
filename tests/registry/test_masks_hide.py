"""Issue 14, holes 2 and 3 (pages): a masked ID cannot be rebuilt from what is printed beside it,
and the edit form neither shows the full ID nor changes it without a recorded step.

Written as the attacker would: fetch what the role can fetch, then try to rebuild the number.
"""

import re
from datetime import date
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from eldercare.models import AccessEvent
from registry.models import Elder
from tests.factories import make_elder, make_id_number

pytestmark = pytest.mark.django_db

BIRTH = date(1948, 6, 2)


def birth_spellings(day: date) -> list[str]:
    """Every way a page or a sheet might print the hidden middle of the ID."""
    return [f"{day:%Y%m%d}", f"{day:%Y-%m-%d}", f"{day:%Y/%m/%d}", f"{day.year}年{day.month}月{day.day}日",
            f"{day:%Y-%m-%d}".replace("-0", "-"), f"{day.month:02d}-{day.day:02d}", f"{day.month}月{day.day}日"]


def rebuilds(masked: str, text: str) -> bool:
    """Whether `text` holds a date that, put into the masked ID's stars, gives a full number."""
    head, tail = masked[:6], masked[-4:]
    for year, month, day in re.findall(r"(19\d\d|20\d\d)\D{0,2}(\d{1,2})\D{0,2}(\d{1,2})", text):
        candidate = f"{head}{year}{int(month):02d}{int(day):02d}{tail}"
        if len(candidate) == 18:
            return True
    return False


@pytest.fixture
def elder(world):
    return make_elder(world.village, name="王秀英", id_number=make_id_number(BIRTH, male=False),
                      phones=["13812345678"])


@pytest.mark.parametrize("username", ["village", "town", "county", "clinic"])
def test_profile_prints_no_birth_date_beside_the_masked_id(client, world, elder, username):
    client.force_login(world.users[username])
    page = client.get(reverse("registry:elder", args=[elder.pk])).content.decode()
    masked = elder.id_number[:6] + "********" + elder.id_number[-4:]
    assert masked in page and elder.id_number not in page
    for spelling in birth_spellings(BIRTH):
        assert spelling not in page, f"{username} reads {spelling}"
    assert "1948年" in page  # the year is enough for the work (the age is in the title)


def test_history_on_the_profile_shows_the_birth_year_only(client, world, elder):
    elder.id_number = make_id_number(date(1949, 7, 3), male=False)
    elder.save()
    client.force_login(world.users["town"])
    page = client.get(reverse("registry:elder", args=[elder.pk])).content.decode()
    for spelling in birth_spellings(BIRTH) + birth_spellings(date(1949, 7, 3)):
        assert spelling not in page


def test_masked_ledger_rows_cannot_be_rebuilt(client, world, elder):
    make_elder(world.village, name="李桂兰", id_number=make_id_number(date(1939, 12, 30)))
    client.force_login(world.users["village"])
    response = client.get(reverse("admin:registry_elder_export"))
    sheet = load_workbook(BytesIO(response.getvalue())).active
    rows = [[str(cell.value or "") for cell in row] for row in sheet.iter_rows()]
    header, body = rows[0], rows[1:]
    assert len(body) == 2
    for row in body:
        masked = row[header.index("身份证号码")]
        assert "*" * 8 in masked
        assert not rebuilds(masked, " ".join(row)), row
        assert row[header.index("出生日期")] in ("1948年", "1939年")
    numbers = set(Elder.objects.values_list("id_number", flat=True))
    assert not numbers & {cell for row in body for cell in row}


def test_full_ledger_of_the_town_keeps_the_birth_date(client, world, elder):
    client.force_login(world.users["town"])
    response = client.get(reverse("admin:registry_elder_export"))
    sheet = load_workbook(BytesIO(response.getvalue())).active
    values = [str(cell.value) for cell in list(sheet.iter_rows())[1]]
    assert elder.id_number in values and "1948-06-02" in values  # it imports back unchanged


@pytest.mark.parametrize("username", ["village", "town"])
def test_edit_form_shows_the_id_masked_and_saving_keeps_it(client, world, elder, username):
    client.force_login(world.users[username])
    url = reverse("registry:elder_edit", args=[elder.pk])
    page = client.get(url).content.decode()
    assert elder.id_number not in page and elder.id_number[:6] + "********" + elder.id_number[-4:] in page
    assert 'name="id_number"' not in page and reverse("registry:elder_id_number", args=[elder.pk]) in page
    other = make_id_number(date(1950, 1, 1))
    response = client.post(url, {"village": world.village.code, "name": "王秀英", "id_number": other,
                                 "phones": "13812345678"})
    assert response.status_code == 302
    assert Elder.objects.get(pk=elder.pk).id_number == elder.id_number  # a smuggled field changes nothing
    assert not AccessEvent.objects.exists()


def test_changing_the_id_is_a_recorded_step_that_never_shows_the_old_number(client, world, elder):
    user = world.users["village"]
    client.force_login(user)
    url = reverse("registry:elder_id_number", args=[elder.pk])
    page = client.get(url).content.decode()
    assert elder.id_number not in page and "修改身份证号" in page
    assert not AccessEvent.objects.exists()
    new = make_id_number(date(1948, 6, 12), male=False)
    response = client.post(url, {"id_number": new, "reason": "登记时录错一位"})
    assert response.status_code == 302
    changed = Elder.objects.get(pk=elder.pk)
    assert changed.id_number == new and changed.birth_date == date(1948, 6, 12)
    event = AccessEvent.objects.get()
    assert (event.user, event.kind, event.field, event.object_id) == (user, "reveal", "id_number", str(elder.pk))
    assert event.detail == {"action": "change", "reason": "登记时录错一位"}


def test_id_change_to_a_number_registered_elsewhere_says_nothing_of_where(client, world, elder):
    taken = make_elder(world.village2, name="外村老人")
    client.force_login(world.users["village"])
    response = client.post(reverse("registry:elder_id_number", args=[elder.pk]),
                           {"id_number": taken.id_number, "reason": "更正"})
    page = response.content.decode()
    assert response.status_code == 200 and "其他辖区" in page and "外村老人" not in page
    assert world.village2.name not in page
    assert Elder.objects.get(pk=elder.pk).id_number == elder.id_number and not AccessEvent.objects.exists()


@pytest.mark.parametrize("username", ["village2", "clinic", "police"])
def test_id_change_out_of_reach_is_404_and_changes_nothing(client, world, elder, username):
    client.force_login(world.users[username])
    response = client.post(reverse("registry:elder_id_number", args=[elder.pk]),
                           {"id_number": make_id_number(), "reason": "x"})
    assert response.status_code == 404
    assert Elder.objects.get(pk=elder.pk).id_number == elder.id_number and not AccessEvent.objects.exists()
