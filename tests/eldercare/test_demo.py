"""The demo dataset: every demo account works and sees only its own jurisdiction."""

import pytest
from django.core.management import CommandError, call_command

from eldercare import demo
from eldercare.models import Area, User
from registry.models import Elder


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        demo.seed(scale=False, log=lambda *a: None)
        yield
        call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)


@pytest.mark.django_db
def test_every_demo_account_sees_only_its_jurisdiction(demo_data):
    expected_prefix = {"county": "511529", "town": "511529100", "clinic": "511529100"}
    for username in ("county", "town", "village", "village2", "clinic"):
        user = User.objects.get(username=username)
        assert user.check_password("eldercare-demo")
        prefix = expected_prefix.get(username, user.area_id)
        visible = Elder.objects.for_user(user)
        assert visible.exists(), f"{username} sees no elder"
        assert not visible.exclude(village__code__startswith=prefix).exists()
        assert visible.count() == Elder.objects.filter(village__code__startswith=prefix).count()
    village, village2 = User.objects.get(username="village"), User.objects.get(username="village2")
    assert village.area_id != village2.area_id and village.area.parent_id == village2.area.parent_id == "511529100"
    assert not Elder.objects.for_user(User.objects.get(username="police")).exists()


@pytest.mark.django_db
def test_the_demo_has_a_care_home_with_an_elder_living_there(demo_data):
    from registry.models import CareHome

    home = CareHome.objects.get(area_id="511529100")
    resident = Elder.objects.get(care_home=home)
    assert resident.status == "institution" and resident.moved_in_on is not None and resident.age >= 65
    assert resident.status_changes.get(to_status="institution").care_home == home
    village = User.objects.get(username="village")
    assert CareHome.objects.for_user(village).filter(pk=home.pk).exists()  # offered on 变更状态


@pytest.mark.django_db
def test_every_demo_department_has_an_officer_and_the_clinic_account_is_its_clinics(demo_data):
    from eldercare.models import Department

    assert not Department.objects.filter(staff__isnull=True).exists()
    clinic = User.objects.get(username="clinic")
    assert clinic.department.kind == "clinic" and clinic.department.town_id == clinic.area_id


@pytest.mark.django_db
def test_demo_villages_have_valid_codes_under_their_town(demo_data):
    for village in Area.objects.villages():
        village.full_clean()
    assert Area.objects.towns().count() == 11 and Area.objects.villages().count() >= 50


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
