"""Circulars (通报): drafted from the scores, issued once and then immutable, seen by the villages
they name, answered with rectification notes the town accepts, exported as .docx."""

from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from eldercare.models import AccessEvent
from oversight import services
from oversight.models import Circular, CircularStatus, Rectification
from oversight.periods import QUARTER, Period
from tests.factories import make_elder
from tests.oversight.data import populate

pytestmark = pytest.mark.django_db


def _draft(world, **kwargs):
    return services.draft_circular(world.town, Period(QUARTER, timezone.localdate()),
                                   acting_user=world.users["town"], **kwargs)


def test_draft_names_the_villages_below_target_with_their_shortfalls(world):
    populate(world, per_village=1)
    make_elder(world.village, name="缺项老人", age=70)  # incomplete record: one more shortfall here
    circular = _draft(world)
    content = circular.scores
    assert circular.status == CircularStatus.DRAFT and circular.number == 1
    assert [v["name"] for v in content["villages"]][0] in ("李家湾村", "青龙村")
    assert {v["code"] for v in content["villages"]} == {world.village.code, world.village2.code}
    village = next(v for v in content["villages"] if v["code"] == world.village.code)
    incomplete = next(s for s in village["shortfalls"] if s["item"] == "必填项齐全")
    assert incomplete["miss"] == 5  # populate()'s four 在册 elders have no phone or address either
    assert set(content["below"]) == {v["code"] for v in content["villages"] if v["total"] < services.PASS_SCORE}
    assert set(circular.named.values_list("village_id", flat=True)) == set(content["below"]) | set(content["improved"])
    assert _draft(world).number == 2  # a second draft of the same period is numbered on


def test_an_issued_circular_cannot_change(world):
    circular = _draft(world, text="请各村限期整改。")
    services.issue_circular(circular, acting_user=world.users["town"])
    with pytest.raises(services.IllegalTransition):
        services.update_circular_text(circular, text="改一下", acting_user=world.users["town"])
    with pytest.raises(services.IllegalTransition):
        services.issue_circular(circular, acting_user=world.users["town"])
    circular.refresh_from_db()
    assert circular.text == "请各村限期整改。" and circular.status == CircularStatus.ISSUED


def test_only_the_town_office_drafts_and_issues(world, login):
    with pytest.raises(PermissionDenied):
        services.draft_circular(world.town, Period(QUARTER, timezone.localdate()), acting_user=world.users["village"])
    response = login(world.users["village"]).post(reverse("oversight:circulars"), {"period": "quarter"})
    assert response.status_code == 404 and not Circular.objects.exists()
    response = login(world.users["town"]).post(reverse("oversight:circulars"), {"period": "quarter"})
    assert response.status_code == 302 and Circular.objects.get().town == world.town


def _named_issued(world):
    populate(world, per_village=1)
    circular = _draft(world)
    circular.named.update_or_create(village=world.village, defaults={"below_target": True})
    circular.named.filter(village=world.village2).delete()
    return circular


def test_villages_see_the_issued_circulars_that_name_them(world, login):
    circular = _named_issued(world)
    village, village2 = login(world.users["village"]), None
    url = reverse("oversight:circular", args=[circular.pk])
    assert village.get(url).status_code == 404  # a draft is the office's
    services.issue_circular(circular, acting_user=world.users["town"])
    assert circular.title in village.get(reverse("oversight:circulars")).content.decode()
    assert village.get(url).status_code == 200
    village2 = login(world.users["village2"])
    assert village2.get(url).status_code == 404
    assert circular.title not in village2.get(reverse("oversight:circulars")).content.decode()
    assert login(world.users["other_town"]).get(url).status_code == 404


def test_rectification_is_submitted_by_the_named_village_and_accepted_by_the_town(world, login):
    circular = _named_issued(world)
    services.issue_circular(circular, acting_user=world.users["town"])
    url = reverse("oversight:circular", args=[circular.pk])
    login(world.users["village"]).post(url, {"action": "rectify", "note": "已补齐 12 位老人的联系电话。"})
    rectification = Rectification.objects.get()
    assert rectification.village == world.village and rectification.accepted_at is None
    page = login(world.users["town"]).get(url).content.decode()
    assert "已补齐 12 位老人的联系电话。" in page and "确认整改" in page
    login(world.users["town"]).post(url, {"action": "accept", "id": rectification.pk})
    rectification.refresh_from_db()
    assert rectification.accepted_by == world.users["town"]
    response = login(world.users["village"]).post(url, {"action": "rectify", "note": ""}, follow=True)
    assert "请填写整改情况" in response.content.decode()


def test_docx_export_has_the_title_and_shortfalls_and_is_recorded(world, login):
    from docx import Document

    circular = _named_issued(world)
    services.update_circular_text(circular, text="请各村于下月10日前报送整改情况。", acting_user=world.users["town"])
    response = login(world.users["town"]).get(reverse("oversight:circular_docx", args=[circular.pk]))
    text = "\n".join(p.text for p in Document(BytesIO(response.content)).paragraphs)
    assert circular.title in text and "请各村于下月10日前报送整改情况。" in text and "锦屏镇人民政府" in text
    assert AccessEvent.objects.get(kind="export").detail["what"] == "oversight.circular"
