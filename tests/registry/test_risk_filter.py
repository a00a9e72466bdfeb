"""High-risk follow-through: the register lists elders by their current risk level."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import make_elder

pytestmark = pytest.mark.django_db


def test_the_register_filters_by_current_risk_level(client, world):
    make_elder(world.village, name="高风险老人", risk_level="high")
    make_elder(world.village, name="低风险老人", risk_level="low")
    make_elder(world.village, name="未评估老人")
    client.force_login(world.users["village"])
    page = client.get(reverse("registry:elders"), {"risk": "high"}).content.decode()
    assert "高风险老人" in page and "低风险老人" not in page and "未评估老人" not in page
    page = client.get(reverse("registry:elders"), {"risk": "none"}).content.decode()
    assert "未评估老人" in page and "高风险老人" not in page


def admin_names(client, query):
    response = client.get(reverse("admin:registry_elder_changelist"), query)
    assert response.status_code == 200
    return {name for name in ("高风险老人", "中风险老人", "低风险老人", "未评估老人") if name in response.content.decode()}


def test_the_admin_changelist_filters_by_the_same_current_risk_as_the_register(client, world):
    make_elder(world.village, name="高风险老人", risk_level="high")
    make_elder(world.village, name="中风险老人", risk_level="medium")
    make_elder(world.village, name="低风险老人", risk_level="low")
    make_elder(world.village, name="未评估老人")
    client.force_login(world.users["town"])
    page = client.get(reverse("admin:registry_elder_changelist")).content.decode()
    assert "当前风险等级" in page and "未评估" in page  # the filter is offered in the sidebar
    for value, expected in [("high", "高风险老人"), ("medium", "中风险老人"), ("low", "低风险老人"),
                            ("none", "未评估老人")]:
        assert admin_names(client, {"risk": value}) == {expected}
        register = client.get(reverse("registry:elders"), {"risk": value}).content.decode()
        assert expected in register and all(n not in register for n in admin_names(client, {}) - {expected})


def test_the_admin_refuses_a_raw_risk_lookup_but_exports_the_risk_filter(client, world):
    make_elder(world.village, name="高风险老人", risk_level="high")
    make_elder(world.village, name="未评估老人")
    client.force_login(world.users["town"])
    # only the filter the sidebar shows is admitted, not a lookup typed into the address
    assert client.get(reverse("admin:registry_elder_changelist"), {"risk_level__startswith": "h"}).status_code == 400
    response = client.get(reverse("admin:registry_elder_export"), {"risk": "high"})
    sheet = load_workbook(BytesIO(response.getvalue())).active
    names = [row[3].value for row in sheet.iter_rows(min_row=2)]
    assert names == ["高风险老人"]
