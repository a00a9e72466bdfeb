"""Registering and editing elders: ID validation in plain Chinese, duplicates, no leaks."""

from datetime import date

import pytest
from django.urls import reverse
from stdnum.cn import ric

from registry.models import Elder
from tests.factories import make_elder, make_id_number

pytestmark = pytest.mark.django_db


def post_new(client, world, id_number, **extra):
    data = {"village": world.village.code, "name": "刘桂兰", "id_number": id_number, "living": "alone",
            "self_care": "independent", "phones": "13912345678", **extra}
    return client.post(reverse("registry:elder_add"), data)


def errors_of(response):
    if not response.context:
        return []
    return [e["message"] for e in response.context["form"].errors.get_json_data().get("id_number", [])]


def test_valid_id_registers_and_derives_birth_and_sex(client, world):
    number = make_id_number(date(1948, 6, 2), male=False)
    client.force_login(world.users["village"])
    response = post_new(client, world, number)
    elder = Elder.objects.get(id_number=number)
    assert response.status_code == 302 and response["Location"] == reverse("registry:elder", args=[elder.pk])
    assert elder.birth_date == date(1948, 6, 2) and elder.sex == "female" and elder.phones == ["13912345678"]


def test_bad_check_character_is_refused_in_plain_chinese_and_input_kept(client, world):
    number = make_id_number()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    client.force_login(world.users["village"])
    response = post_new(client, world, wrong)
    assert response.status_code == 200
    assert "校验位不符" in errors_of(response)[0]
    page = response.content.decode()
    assert wrong in page and "刘桂兰" in page  # nothing typed is lost
    assert not Elder.objects.exists()


def test_fifteen_digit_number_is_converted(client, world):
    client.force_login(world.users["village"])
    post_new(client, world, "511529460602123")
    body = "51152919460602123"
    assert Elder.objects.get().id_number == body + ric.calc_check_digit(body + "0")


def test_impossible_birth_date_is_refused(client, world):
    body = "51152919480231123"  # 31 February
    client.force_login(world.users["village"])
    response = post_new(client, world, body + ric.calc_check_digit(body + "0"))
    assert "不是真实的日期" in errors_of(response)[0]


def test_duplicate_in_scope_links_to_the_existing_elder(client, world):
    existing = make_elder(world.village, name="张德明")
    client.force_login(world.users["village"])
    response = post_new(client, world, existing.id_number)
    message = errors_of(response)[0]
    assert "该身份证号已登记" in message and reverse("registry:elder", args=[existing.pk]) in message
    assert Elder.objects.count() == 1


def test_duplicate_out_of_scope_reveals_nothing(client, world):
    existing = make_elder(world.village, name="张德明")
    client.force_login(world.users["village2"])
    response = client.post(reverse("registry:elder_add"), {"village": world.village2.code, "name": "某某",
                                                          "id_number": existing.id_number})
    page = response.content.decode()
    assert errors_of(response) == ["该身份证号已在其他辖区登记，请联系乡镇民政办"]
    assert "李家湾" not in page and "张德明" not in page


def test_village_worker_cannot_register_into_another_village(client, world):
    client.force_login(world.users["village"])
    response = post_new(client, world, make_id_number(), village=world.village2.code)
    assert response.status_code == 200 and "village" in response.context["form"].errors
    assert not Elder.objects.exists()


def test_edit_keeps_own_id_and_saves(client, world):
    elder = make_elder(world.village, name="张德明")
    client.force_login(world.users["village"])
    response = client.post(reverse("registry:elder_edit", args=[elder.pk]), {
        "village": world.village.code, "name": "张德民", "id_number": elder.id_number})
    assert response.status_code == 302
    assert Elder.objects.get(pk=elder.pk).name == "张德民"
