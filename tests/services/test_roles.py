"""Role boundaries through every route: pages, profile panel, admin and export."""

from io import BytesIO

import pytest
from django.test import RequestFactory
from django.urls import reverse
from openpyxl import load_workbook

from eldercare.models import AccessEvent
from eldercare.spreadsheets import safe_cell_text
from registry.models import Elder
from services.models import HealthCheck
from services.panels import elder_services
from tests.factories import make_elder
from tests.services.factories import make_check, make_contract

pytestmark = pytest.mark.django_db
MEDICAL_MARKERS = ("收缩压", "mmHg", "171")  # labels and the distinctive systolic value below


@pytest.fixture
def checked_elder(world):
    elder = make_elder(world.village, name="冯秀珍", age=76)
    make_check(elder, world.users["clinic"], systolic=171, diastolic=99, summary="高血压需复查")
    make_contract(elder)
    return Elder.objects.get(pk=elder.pk)


def panel_for(user, elder):
    request = RequestFactory().get("/")
    request.user = user
    return elder_services(request, elder)


def test_village_panel_shows_yes_no_and_contract_but_no_medical_detail(world, checked_elder):
    panel = panel_for(world.users["village"], checked_elder)
    assert panel.context["elder_health"]["checked_this_year"] is True
    assert panel.context["elder_health"]["contract_valid_until"] is not None
    assert panel.context["latest_check"] is None
    from django.template.loader import render_to_string

    html = render_to_string(panel.template, panel.context)
    assert "已体检" in html and "171" not in html and "血压" not in html


def test_clinic_and_town_panel_show_the_latest_check(world, checked_elder):
    for username in ("clinic", "town"):
        assert panel_for(world.users[username], checked_elder).context["latest_check"].systolic == 171


def test_department_gets_no_services_panel(world, checked_elder):
    assert panel_for(world.users["police"], checked_elder) is None


@pytest.mark.parametrize("username", ["village", "village2", "police"])
def test_health_check_rows_are_invisible_to_village_and_department(world, checked_elder, username):
    assert not HealthCheck.objects.for_user(world.users[username]).exists()


@pytest.mark.parametrize("username", ["village", "police"])
def test_village_and_department_cannot_open_health_pages_or_export(login, world, checked_elder, username):
    client = login(world.users[username])
    for url in (reverse("services:clinic_worklist"), reverse("services:health_check_export"),
                reverse("services:health_check_add", args=[checked_elder.pk])):
        assert client.get(url).status_code == 404


def test_village_admin_never_shows_health_checks(login, world, checked_elder):
    check = HealthCheck.objects.get()
    client = login(world.users["village"])
    assert client.get(reverse("admin:services_healthcheck_change", args=[check.pk])).status_code == 404
    response = client.get(reverse("admin:services_healthcheck_changelist"))
    assert "冯秀珍" not in response.content.decode() and "171" not in response.content.decode()


def test_clinic_cannot_see_pairings_records_or_catalogue_pages(login, world, checked_elder):
    client = login(world.users["clinic"])
    for name in ("services:pairings", "services:hours", "services:group_entry", "services:catalogue"):
        assert client.get(reverse(name)).status_code == 404


def test_export_is_scoped_role_bounded_neutralised_and_recorded(login, world, checked_elder):
    evil = make_elder(world.village, name="=HYPERLINK(\"x\")", age=70)
    make_check(evil, world.users["clinic"], summary="＝1+1")
    outsider = make_elder(world.other_village, name="外镇老人", age=70)
    make_check(outsider, world.users["clinic"])
    response = login(world.users["clinic"]).get(reverse("services:health_check_export"))
    sheet = load_workbook(BytesIO(response.getvalue())).active
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert "冯秀珍" in cells and "外镇老人" not in cells
    assert "'=HYPERLINK(\"x\")" in cells and "'＝1+1" in cells
    assert all(c is None or isinstance(c, str) for c in cells)
    event = AccessEvent.objects.get()
    assert event.kind == "export" and event.user == world.users["clinic"]


@pytest.mark.parametrize(("raw", "safe"), [("=1", "'=1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"),
                                           ("＝1", "'＝1"), ("＋1", "'＋1"), ("－1", "'－1"), ("＠x", "'＠x"),
                                           ("张三", "张三"), (None, ""), (12, "12")])
def test_safe_cell_text_neutralises_formula_prefixes(raw, safe):
    assert safe_cell_text(raw) == safe
