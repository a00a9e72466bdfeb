"""High-risk follow-through: the register lists elders by their current risk level."""

import pytest
from django.urls import reverse

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
