"""The relief pages as users see them: report, detail and actions, queues, inbox, privacy,
cases raised from supervision records and visits, risk assessment, query counts."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.choices import SupervisionMethod, SupervisionResult
from registry.models import Elder, Supervision
from registry.panels import ElderPanel
from relief.choices import ReliefCaseStatus, ReliefCaseType, ReliefCaseUrgency
from relief.models import CaseEvent, Referral, ReliefCase, RiskAssessment
from relief.panels import risk_and_cases
from relief.views import inbox_badge
from tests.factories import make_elder, make_guardian
from tests.relief.factories import make_case
from visits.models import Visit

S = ReliefCaseStatus
pytestmark = pytest.mark.django_db
SECRET = "邻居多次殴打老人并抢走存折"


def page(client, url):
    response = client.get(url)
    return response.status_code, response.content.decode()


class TestReport:
    def test_village_reports_an_urgent_case_from_the_phone_form(self, world, login):
        elder = make_elder(world.village, name="王秀英")
        client = login(world.users["village"])
        status, html = page(client, reverse("relief:case_report"))
        assert status == 200 and "王秀英" in html and "紧急" in html
        response = client.post(reverse("relief:case_report"), {
            "elder": elder.pk, "case_type": ReliefCaseType.CRITICAL_ILLNESS, "urgency": "urgent",
            "narrative": "老人突发高烧，神志不清"})
        case = ReliefCase.objects.get()
        assert response.status_code == 302 and response["Location"] == reverse("relief:case_detail", args=[case.pk])
        assert (case.urgency, case.status, case.reported_by) == ("urgent", "reported", world.users["village"])

    def test_errors_name_the_field_and_keep_the_input(self, world, login):
        elder = make_elder(world.village, name="王秀英")
        client = login(world.users["village"])
        response = client.post(reverse("relief:case_report"), {"elder": elder.pk, "case_type": "", "urgency": "urgent",
                                                                "narrative": "老人走失"})
        html = response.content.decode()
        assert response.status_code == 200 and "请选择情况类型" in html and "老人走失" in html
        assert not ReliefCase.objects.exists()

    def test_village2_cannot_choose_an_elder_of_another_village(self, world, login):
        elder = make_elder(world.village, name="王秀英")
        client = login(world.users["village2"])
        assert "王秀英" not in page(client, reverse("relief:case_report"))[1]
        response = client.post(reverse("relief:case_report"), {
            "elder": elder.pk, "case_type": "other", "urgency": "normal", "narrative": "x"})
        assert "请从列表中选择老人" in response.content.decode() and not ReliefCase.objects.exists()


class TestDetailAndActions:
    def test_town_accepts_and_refers_through_the_page(self, world, login):
        case = make_case(world)
        client = login(world.users["town"])
        status, html = page(client, reverse("relief:case_detail", args=[case.pk]))
        assert status == 200 and "受理" in html and "退回补充" in html
        client.post(reverse("relief:case_action", args=[case.pk, "accept"]), {"accept-note": "已核实"})
        assert ReliefCase.objects.get(pk=case.pk).status == S.ACCEPTED
        html = page(client, reverse("relief:case_detail", args=[case.pk]))[1]
        assert "锦屏镇派出所" in html and "锦屏镇司法所" in html
        client.post(reverse("relief:case_action", args=[case.pk, "refer"]), {"refer-departments": [world.police.pk]})
        assert Referral.objects.get(case=case).department == world.police

    def test_a_missing_outcome_is_shown_on_the_form(self, world, login):
        case = make_case(world, status=S.IN_PROGRESS)
        client = login(world.users["town"])
        response = client.post(reverse("relief:case_action", args=[case.pk, "close"]), {"close-outcome": ""})
        assert response.status_code == 200 and "请填写办理结果" in response.content.decode()
        assert ReliefCase.objects.get(pk=case.pk).status == S.IN_PROGRESS

    def test_village_cannot_post_a_town_step(self, world, login):
        case = make_case(world)
        client = login(world.users["village"])
        response = client.post(reverse("relief:case_action", args=[case.pk, "accept"]), {})
        assert response.status_code == 404 and ReliefCase.objects.get(pk=case.pk).status == S.REPORTED

    def test_police_receives_starts_and_closes_through_the_page(self, world, login):
        case = make_case(world, status=S.REFERRED)
        referral = Referral.objects.get(case=case)
        client = login(world.users["police"])
        assert "接收" in page(client, reverse("relief:case_detail", args=[case.pk]))[1]
        client.post(reverse("relief:referral_action", args=[referral.pk, "receive"]), {})
        client.post(reverse("relief:referral_action", args=[referral.pk, "start"]), {})
        client.post(reverse("relief:referral_action", args=[referral.pk, "close"]), {"rclose-outcome": "已处置"})
        case.refresh_from_db()
        assert case.status == S.CLOSED and "已处置" in case.outcome

    def test_justice_cannot_act_on_a_police_referral(self, world, login):
        case = make_case(world, status=S.REFERRED)
        referral = Referral.objects.get(case=case)
        client = login(world.users["justice"])
        assert client.post(reverse("relief:referral_action", args=[referral.pk, "receive"])).status_code == 404


class TestPrivacy:
    def sensitive(self, world, status=S.REFERRED):
        return make_case(world, status=status, case_type=ReliefCaseType.ILLEGAL_HARM, narrative=SECRET)

    def test_sensitive_narrative_is_for_town_and_the_assigned_department_only(self, world, login):
        case = self.sensitive(world)
        url = reverse("relief:case_detail", args=[case.pk])
        for username in ("town", "police"):
            status, html = page(login(world.users[username]), url)
            assert status == 200 and SECRET in html, username
        for username in ("village", "county"):
            status, html = page(login(world.users[username]), url)
            assert status == 200 and SECRET not in html and "仅乡镇民政办和承办部门可见" in html, username
        for username in ("justice", "village2", "clinic", "other_town"):
            assert page(login(world.users[username]), url)[0] == 404, username

    def test_village_sees_status_and_outcome_of_a_sensitive_case(self, world, login):
        case = self.sensitive(world, status=S.CLOSED)
        html = page(login(world.users["village"]), reverse("relief:case_detail", args=[case.pk]))[1]
        assert "已办结" in html and "已送医并联系子女回家照料" in html and SECRET not in html

    def test_normal_narrative_is_visible_to_the_reporting_village(self, world, login):
        case = make_case(world, narrative="老人家中漏雨")
        assert "老人家中漏雨" in page(login(world.users["village"]),
                                  reverse("relief:case_detail", args=[case.pk]))[1]

    def test_department_sees_only_its_referrals_timeline(self, world, login):
        case = make_case(world, status=S.ACCEPTED)
        from relief import services

        services.refer_case(case, departments=[world.police, world.justice], note="请协助",
                            acting_user=world.users["town"])
        html = page(login(world.users["justice"]), reverse("relief:case_detail", args=[case.pk]))[1]
        assert "转办至锦屏镇司法所" in html and "转办至锦屏镇派出所" not in html
        assert "乡镇受理" not in html  # the town's own steps are not the department's business

    def test_admin_leaves_out_a_narrative_the_user_may_not_read(self, world, login):
        case = self.sensitive(world)
        url = reverse("admin:relief_reliefcase_change", args=[case.pk])
        assert SECRET in login(world.users["town"]).get(url).content.decode()
        response = login(world.users["county"]).get(url)
        assert response.status_code == 200 and SECRET not in response.content.decode()
        for username in ("village", "police", "clinic"):
            assert login(world.users[username]).get(url).status_code == 404
        from relief import services

        services.return_case(case := make_case(world, case_type=ReliefCaseType.ILLEGAL_HARM, narrative=SECRET),
                             reason="补充", acting_user=world.users["town"])
        services.resubmit_case(case, supplement="老人仍害怕回家", acting_user=world.users["village"])
        history = reverse("admin:relief_reliefcase_history", args=[case.pk])
        assert "老人仍害怕回家" in login(world.users["town"]).get(history).content.decode()
        assert "老人仍害怕回家" not in login(world.users["county"]).get(history).content.decode()

    def test_profile_panel_shows_level_and_cases_without_narratives(self, world, rf):
        case = self.sensitive(world, status=S.CLOSED)
        from relief import services

        services.confirm_assessment(case.elder, level="high", adjusted_reason="遭受侵害后情绪低落",
                                    acting_user=world.users["village"])
        request = rf.get("/")
        request.user = world.users["village"]
        panel = risk_and_cases(request, case.elder)
        assert isinstance(panel, ElderPanel) and panel.context["assessment"].level == "high"
        assert [c.pk for c in panel.context["cases"]] == [case.pk]
        from django.template.loader import render_to_string

        html = render_to_string(panel.template, panel.context, request=request)
        assert "高风险" in html and "遭受非法侵害" in html and SECRET not in html
        for username in ("police", "clinic"):
            request.user = world.users[username]
            assert risk_and_cases(request, case.elder) is None
        request.user = world.users["village2"]
        assert risk_and_cases(request, case.elder).context["cases"] == []

    def test_profile_panel_query_count_is_fixed(self, world, rf, django_assert_num_queries):
        elder = make_elder(world.village)
        request = rf.get("/")
        request.user = world.users["town"]
        for _n in range(3):
            make_case(world, elder=elder)
        with django_assert_num_queries(2):
            risk_and_cases(request, elder)


class TestInbox:
    def test_each_role_sees_what_it_must_act_on(self, world, rf):
        reported = make_case(world)
        returned = make_case(world, status=S.RETURNED)
        referred = make_case(world, status=S.REFERRED)
        make_case(world, status=S.CLOSED)
        make_case(world, village=world.village2)

        def count(username):
            request = rf.get("/")
            request.user = world.users[username]
            return inbox_badge(request)

        assert count("town") == 2  # two new reports (village and village2), nothing overdue yet
        assert count("police") == 1 and count("justice") == 0
        assert count("village") == 1 and count("village2") == 0
        assert count("clinic") == 0 and count("other_town") == 0
        # an overdue case joins the town's inbox
        ReliefCase.objects.filter(pk=referred.pk).update(referred_at=timezone.now() - timedelta(days=3))
        assert count("town") == 3
        from relief.views import inbox_rows

        assert reported in inbox_rows(world.users["town"]) and returned in inbox_rows(world.users["village"])

    def test_badge_is_one_query(self, world, rf, django_assert_num_queries):
        make_case(world)
        for username in ("town", "police", "village"):
            request = rf.get("/")
            request.user = world.users[username]
            with django_assert_num_queries(1):
                inbox_badge(request)

    def test_inbox_page_lists_returned_reports_for_the_village(self, world, login):
        case = make_case(world, status=S.RETURNED)
        html = page(login(world.users["village"]), reverse("relief:inbox"))[1]
        assert case.elder.name in html and "退回补充" in html
        assert case.elder.name not in page(login(world.users["village2"]), reverse("relief:inbox"))[1]


class TestRaisedFromRecords:
    def refusal(self, world, result=SupervisionResult.REFUSED):
        elder = make_elder(world.village, name="李桂兰")
        guardian = make_guardian(elder, name="李建国")
        return Supervision.objects.create(elder=elder, guardian=guardian, supervised_on=timezone.localdate(),
                                          method=SupervisionMethod.IN_PERSON, result=result,
                                          guardian_response="不愿意出钱", recorded_by=world.users["village"])

    def test_a_refusal_becomes_a_case_in_one_step(self, world, login):
        supervision = self.refusal(world)
        client = login(world.users["village"])
        url = reverse("relief:case_from_supervision", args=[supervision.pk])
        status, html = page(client, url)
        assert status == 200 and "李桂兰" in html and "李建国" in html and "不愿意出钱" in html
        assert "赡养人拒不履行义务" in html
        narrative = f"赡养人李建国于 {supervision.supervised_on:%Y-%m-%d} 经当面督促后仍拒不履行赡养义务。"
        response = client.post(url, {"case_type": ReliefCaseType.GUARDIAN_REFUSAL, "urgency": "normal",
                                     "narrative": narrative})
        case = ReliefCase.objects.get()
        assert response.status_code == 302
        assert (case.elder, case.case_type, case.source_supervision) == (
            supervision.elder, ReliefCaseType.GUARDIAN_REFUSAL, supervision)
        # a second visit of the page leads to the case instead of a duplicate
        assert client.get(url)["Location"] == reverse("relief:case_detail", args=[case.pk])

    def test_only_refusals_raise_cases(self, world, login):
        supervision = self.refusal(world, result=SupervisionResult.PROMISED)
        client = login(world.users["village"])
        assert client.get(reverse("relief:case_from_supervision", args=[supervision.pk])).status_code == 404

    def test_a_visit_marked_report_to_town_becomes_a_case(self, world, login):
        elder = make_elder(world.village, name="赵德明")
        visit = Visit.objects.create(elder=elder, visitor=world.users["village"], visited_at=timezone.now(), submission_key=uuid4(),
                                     method="home", outcome="help", needs_raised="需要送医", notes="老人发烧两天",
                                     report_to_town=True)
        client = login(world.users["village"])
        url = reverse("relief:case_from_visit", args=[visit.pk])
        status, html = page(client, url)
        assert status == 200 and "赵德明" in html and "需要送医" in html and "老人发烧两天" in html
        client.post(url, {"case_type": ReliefCaseType.CRITICAL_ILLNESS, "urgency": "urgent",
                          "narrative": "老人发烧两天，需要送医"})
        case = ReliefCase.objects.get()
        assert (case.elder, case.source_visit_id) == (elder, visit.pk)
        assert login(world.users["village2"]).get(url).status_code == 404


class TestAssessmentPage:
    def test_village_confirms_the_proposal(self, world, login):
        elder = make_elder(world.village, name="王秀英", age=85, self_care="disabled", living="alone")
        client = login(world.users["village"])
        status, html = page(client, reverse("relief:assess", args=[elder.pk]))
        assert status == 200 and "系统建议：高风险" in html and "失能，日常生活需要他人照料" in html
        client.post(reverse("relief:assess", args=[elder.pk]), {"level": "high"})
        assert Elder.objects.get(pk=elder.pk).risk_level == "high"
        assert RiskAssessment.objects.get().assessed_by == world.users["village"]

    def test_adjusting_without_a_reason_is_refused_and_says_so(self, world, login):
        elder = make_elder(world.village, age=65)
        client = login(world.users["village"])
        response = client.post(reverse("relief:assess", args=[elder.pk]), {"level": "high"})
        assert "请填写调整理由" in response.content.decode() and not RiskAssessment.objects.exists()


class TestQueryCounts:
    def fill(self, world, n):
        elder = make_elder(world.village)
        for i in range(n):
            make_case(world, elder=elder, status=[S.REPORTED, S.REFERRED, S.IN_PROGRESS][i % 3],
                      urgency=ReliefCaseUrgency.URGENT if i % 2 else ReliefCaseUrgency.NORMAL)

    @pytest.mark.parametrize("n", [2, 20])
    def test_town_queue_runs_a_fixed_number_of_queries(self, world, login, n, django_assert_num_queries):
        self.fill(world, n)
        client = login(world.users["town"])
        client.get(reverse("relief:case_list"))  # warm the session
        # session, user (with their area), page count, rows; the menu's counts and the session's
        # renewal happened in the first request
        with django_assert_num_queries(4):
            response = client.get(reverse("relief:case_list"))
        assert response.content.decode().count("relief-title") == n

    @pytest.mark.parametrize("n", [2, 20])
    def test_department_queue_runs_a_fixed_number_of_queries(self, world, login, n, django_assert_num_queries):
        self.fill(world, n)
        client = login(world.users["police"])
        client.get(reverse("relief:referral_list"))
        with django_assert_num_queries(4):
            response = client.get(reverse("relief:referral_list"))
        assert response.content.decode().count("relief-title") == len([c for c in range(n) if c % 3])

    @pytest.mark.parametrize("n", [2, 20])
    def test_case_detail_runs_a_fixed_number_of_queries(self, world, login, n, django_assert_num_queries):
        case = make_case(world, status=S.IN_PROGRESS)
        for _ in range(n):
            CaseEvent.objects.create(case=case, action="start", from_status="in_progress", to_status="in_progress",
                                     actor=world.users["town"], note="跟进")
        client = login(world.users["town"])
        client.get(reverse("relief:case_detail", args=[case.pk]))
        with django_assert_num_queries(6):
            client.get(reverse("relief:case_detail", args=[case.pk]))


class TestMoreQueryCounts:
    @pytest.mark.parametrize("n", [2, 20])
    def test_reassessment_due_list_runs_a_fixed_number_of_queries(self, world, login, n, django_assert_num_queries):
        import time_machine

        from relief import services

        with time_machine.travel(timezone.now() - timedelta(days=400)):
            for i in range(n):
                services.confirm_assessment(make_elder(world.village, name=f"老人{i}", age=70), level="low",
                                            adjusted_reason="", acting_user=world.users["village"])
        client = login(world.users["village"])
        client.get(reverse("relief:reassessment_due"))
        with django_assert_num_queries(4):
            response = client.get(reverse("relief:reassessment_due"))
        assert response.content.decode().count("已满 12 个月") == n

    @pytest.mark.parametrize("n", [2, 20])
    def test_town_inbox_runs_a_fixed_number_of_queries(self, world, login, n, django_assert_num_queries):
        elder = make_elder(world.village)
        for _ in range(n):
            make_case(world, elder=elder)
        client = login(world.users["town"])
        client.get(reverse("relief:inbox"))
        with django_assert_num_queries(3):
            response = client.get(reverse("relief:inbox"))
        assert response.content.decode().count("relief-title") == n
