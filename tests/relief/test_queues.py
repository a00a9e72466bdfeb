"""Queues rank what needs acting on first; a step that lost a race to a colleague says so."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from relief import services
from relief.choices import ReliefCaseStatus, ReliefCaseType, ReliefCaseUrgency
from relief.models import ReliefCase
from tests.factories import make_elder, make_user
from tests.relief.factories import make_case

S = ReliefCaseStatus
pytestmark = pytest.mark.django_db


def titles(html):
    """The elder names of the queue's rows, top to bottom."""
    return [part.split(">", 1)[1].split(" · ")[0] for part in html.split('class="relief-title"')[1:]]


def reported(world, name, *, hours_ago, urgency=ReliefCaseUrgency.NORMAL, case_type=ReliefCaseType.MAJOR_HARDSHIP):
    with time_machine.travel(timezone.now() - timedelta(hours=hours_ago)):
        return make_case(world, elder=make_elder(world.village, name=name), urgency=urgency, case_type=case_type)


class TestQueueOrder:
    def test_an_overdue_urgent_report_tops_the_town_inbox_above_reports_still_in_time(self, world, login):
        for i in range(10):
            reported(world, f"及时{i}", hours_ago=1)
        reported(world, "危重老人", hours_ago=3, urgency=ReliefCaseUrgency.URGENT,
                 case_type=ReliefCaseType.CRITICAL_ILLNESS)  # urgent: 2 h to accept
        client = login(world.users["town"])
        for url in (reverse("relief:inbox"), reverse("relief:case_list")):
            rows = titles(client.get(url).content.decode())
            assert len(rows) == 11 and rows[0] == "危重老人", url

    def test_urgent_before_normal_and_nearest_deadline_first_among_cases_in_time(self, world, login):
        reported(world, "一般早报", hours_ago=5)
        reported(world, "一般晚报", hours_ago=1)
        reported(world, "紧急", hours_ago=1, urgency=ReliefCaseUrgency.URGENT)
        accepted = make_case(world, status=S.ACCEPTED, elder=make_elder(world.village, name="已受理"))
        assert not ReliefCase.objects.with_clocks().get(pk=accepted.pk).is_overdue
        rows = titles(login(world.users["town"]).get(reverse("relief:case_list")).content.decode())
        assert rows == ["紧急", "一般早报", "一般晚报", "已受理"]

    def test_not_yet_overdue_is_false_never_null(self, world):
        make_case(world)
        make_case(world, status=S.ACCEPTED, elder=make_elder(world.village, name="李四"))
        assert set(ReliefCase.objects.with_clocks().values_list("is_overdue", flat=True)) == {False}

    def test_open_referrals_come_before_closed_ones_in_the_department_queue(self, world, login):
        closed = make_case(world, status=S.CLOSED, elder=make_elder(world.village, name="已办结"))
        make_case(world, status=S.REFERRED, elder=make_elder(world.village, name="待接收"))
        assert closed.status == S.CLOSED
        rows = titles(login(world.users["police"]).get(reverse("relief:referral_list")).content.decode())
        assert rows == ["待接收", "已办结"]


class TestMissedClockExplained:
    def test_a_case_referred_after_its_resolution_deadline_names_the_missed_clock(self, world, login):
        with time_machine.travel(timezone.now() - timedelta(days=20)):
            case = make_case(world, status=S.ACCEPTED)  # resolution target: 15 days
        services.refer_case(case, departments=[world.police], acting_user=world.users["town"])
        row = ReliefCase.objects.with_clocks().get(pk=case.pk)
        assert row.is_overdue and row.next_due > timezone.now()  # the receipt clock is running and met
        for url in (reverse("relief:case_list"), reverse("relief:case_detail", args=[case.pk])):
            html = login(world.users["town"]).get(url).content.decode()
            due = timezone.localtime(row.resolve_due).strftime("%m-%d %H:%M")
            nxt = timezone.localtime(row.next_due).strftime("%m-%d %H:%M")
            assert f"办结时限 {due} 已过" in html and f"当前时限 {nxt}" in html, url

    def test_a_missed_running_clock_is_shown_once_as_passed(self, world, login):
        case = reported(world, "王秀英", hours_ago=30)  # 24 h to accept
        html = login(world.users["town"]).get(reverse("relief:case_detail", args=[case.pk])).content.decode()
        assert "受理时限" in html and "已过" in html and "当前时限" not in html


class TestLostRace:
    def test_return_after_a_colleague_accepted_says_so_and_changes_nothing(self, world, login):
        case = make_case(world)
        colleague = make_user("town_b", "town", world.town, real_name="李干事")
        services.accept_case(case, acting_user=colleague)  # lands first
        client = login(world.users["town"])
        response = client.post(reverse("relief:case_action", args=[case.pk, "return"]),
                               {"return-reason": "请补充住址"}, follow=True)
        html = response.content.decode()
        assert response.status_code == 200
        assert "您的“退回补充”没有执行" in html and "李干事" in html and "乡镇已受理" in html
        case.refresh_from_db()
        assert case.status == S.ACCEPTED and not case.timeline.filter(action="return").exists()

    def test_accept_after_a_colleague_returned_says_so(self, world, login):
        case = make_case(world)
        colleague = make_user("town_b", "town", world.town, real_name="李干事")
        services.return_case(case, reason="请补充住址", acting_user=colleague)
        response = login(world.users["town"]).post(reverse("relief:case_action", args=[case.pk, "accept"]),
                                                    {"accept-note": ""}, follow=True)
        html = response.content.decode()
        assert "您的“乡镇受理”没有执行" in html and "退回补充" in html and "已受理。" not in html
        assert ReliefCase.objects.get(pk=case.pk).status == S.RETURNED

    def test_a_department_receiving_twice_is_told_it_already_did(self, world, login):
        case = make_case(world, status=S.RECEIVED)
        referral = case.referrals.get()
        response = login(world.users["police"]).post(reverse("relief:referral_action", args=[referral.pk, "receive"]),
                                                     {"rreceive-note": ""}, follow=True)
        assert "您的“部门接收”没有执行" in response.content.decode()


def test_the_department_sees_the_village_workers_phone_on_the_case(world, login):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=world.users["village"].pk).update(phone="13900001111")
    worker = make_user("village_b", "village", world.village, real_name="赵文书", phone="13900002222")
    elder = make_elder(world.village, name="王秀英", responsible_worker=worker)
    case = make_case(world, status=S.REFERRED, elder=elder)
    html = login(world.users["police"]).get(reverse("relief:case_detail", args=[case.pk])).content.decode()
    assert 'href="tel:13900001111"' in html  # the reporter
    assert "巡访责任人" in html and "赵文书" in html and 'href="tel:13900002222"' in html


def test_the_department_queue_says_which_deadline_has_passed(world, login):
    with time_machine.travel(timezone.now() - timedelta(hours=60)):  # 48 h to receive a normal case
        make_case(world, status=S.REFERRED)
    html = login(world.users["police"]).get(reverse("relief:referral_list")).content.decode()
    assert "已超时" in html and "已过" in html.split("接收时限")[1].split("</span>")[0]
