"""通知子女 is a work item: the village records a visit with 通知子女 → the follow-up appears in
its worklist (who was told, how, what was asked, due in the town's N days) → the family's answer
is recorded → it disappears; or it is escalated: 督促 → 拒不履行 → a relief case."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.models import Supervision
from relief.models import ReliefCase
from tests.factories import make_elder, make_guardian
from tests.matrix import PageMatrix
from tests.visits.test_recording import form_data
from visits.choices import FamilyNoticeStatus
from visits.models import FamilyNotice, VisitPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(world):
    elder = make_elder(world.village, name="王秀英", phones=["13912345678"])
    son = make_guardian(elder, name="张建华")
    return elder, son


def visit_with_notice(client, elder, son, **extra):
    return client.post(reverse("visits:record", args=[elder.pk]), form_data(
        diet_check="problem", outcome="attention", checklist_note="家里没有存粮", notify_family="on",
        notice_guardian=son.pk, notice_method="phone", notice_asked="请本周内回家送粮，并每周打一次电话", **extra))


def test_notify_the_family_story_follow_up_appears_then_answer_clears_it(login, world, family):
    elder, son = family
    VisitPolicy.objects.create(town=world.town, family_followup_days=5)
    client = login(world.users["village"])
    assert visit_with_notice(client, elder, son).status_code == 302
    notice = FamilyNotice.objects.get()
    today = timezone.localdate()
    assert (notice.guardian, notice.method, notice.asked, notice.due_on, notice.status) == (
        son, "phone", "请本周内回家送粮，并每周打一次电话", today + timedelta(days=5), FamilyNoticeStatus.OPEN)
    worklist = client.get(reverse("visits:followups")).content.decode()
    assert "王秀英" in worklist and "请本周内回家送粮" in worklist and "张建华" in worklist
    # the other village does not see it
    assert "王秀英" not in login(world.users["village2"]).get(reverse("visits:followups")).content.decode()
    client = login(world.users["village"])
    response = client.post(reverse("visits:followup", args=[notice.pk]), {
        "action": "answer", "answer-response": "张建华答应周六回家送粮", "answer-responded_on": today.isoformat()})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.status == FamilyNoticeStatus.RESPONDED and notice.response == "张建华答应周六回家送粮"
    assert "王秀英" not in client.get(reverse("visits:followups")).content.decode()


def test_without_details_the_notice_asks_for_care_from_the_visit_findings(login, world, family):
    elder, _son = family
    client = login(world.users["village"])
    client.post(reverse("visits:record", args=[elder.pk]), form_data(
        diet_check="problem", outcome="attention", notify_family="on"))
    notice = FamilyNotice.objects.get()
    assert notice.guardian is None and "生活照料·饮食有问题" in notice.asked and "予以照顾" in notice.asked
    assert notice.due_on == timezone.localdate() + timedelta(days=7)  # the town's default


def test_an_overdue_notice_is_escalated_supervision_then_refusal_becomes_a_relief_case(login, world, family):
    elder, son = family
    client = login(world.users["village"])
    visit_with_notice(client, elder, son)
    notice = FamilyNotice.objects.get()
    FamilyNotice.objects.filter(pk=notice.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    assert "已逾期" in client.get(reverse("visits:followups")).content.decode()
    response = client.post(reverse("visits:followup", args=[notice.pk]), {
        "action": "escalate", "escalate-guardian": son.pk, "escalate-method": "phone", "escalate-result": "refused",
        "escalate-guardian_response": "说没空，不管"})
    supervision = Supervision.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("relief:case_from_supervision", args=[supervision.pk])
    notice.refresh_from_db()
    assert notice.status == FamilyNoticeStatus.ESCALATED and notice.supervision == supervision
    assert "王秀英" not in client.get(reverse("visits:followups")).content.decode()
    response = client.post(response["Location"], {"case_type": "guardian_refusal", "urgency": "normal",
                                                 "narrative": "赡养人经督促拒不履行，老人缺粮"})
    case = ReliefCase.objects.get()
    assert case.elder == elder and case.case_type == "guardian_refusal"


def test_a_closed_notice_cannot_be_answered_twice(login, world, family):
    elder, son = family
    client = login(world.users["village"])
    visit_with_notice(client, elder, son)
    notice = FamilyNotice.objects.get()
    data = {"action": "answer", "answer-response": "已回家", "answer-responded_on": timezone.localdate().isoformat()}
    client.post(reverse("visits:followup", args=[notice.pk]), data)
    assert client.post(reverse("visits:followup", args=[notice.pk]), data).status_code == 404


class TestFollowupWorklist(PageMatrix):
    kind = "list"
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        from visits.services import notify_family

        elder = make_elder(world.village, name="甄回访")
        return notify_family(elder, acting_user=world.users["village"], asked="请回家看看")

    def url(self, obj):
        return reverse("visits:followups")

    def marker(self, obj):
        return "甄回访"


class TestFollowupPage(TestFollowupWorklist):
    kind = "detail"

    def url(self, obj):
        return reverse("visits:followup", args=[obj.pk])


def test_worklist_queries_do_not_grow_with_notices(login, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from visits.services import notify_family

    def add(n):
        for i in range(n):
            elder = make_elder(world.village, name=f"王{i}")
            notify_family(elder, guardian=make_guardian(elder, name=f"子{i}"), asked="请回家",
                          acting_user=world.users["village"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("visits:followups")).status_code == 200
        return len(ctx.captured_queries)

    client = login(world.users["village"])
    client.get(reverse("visits:followups"))  # warm: the session's renewal and the menu's counts
    add(2)
    small = count()
    add(15)
    assert count() == small
