"""The server's side of the phone's outbox (issue #15): a special-situation report is stored once
per one-time key like a visit; the outbox's JSON answers (stored, stored before, refused with
a Chinese reason naming the problem); /sw.js and /session/; the CSRF failure header."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from registry.choices import ElderStatus
from registry.models import Elder
from relief import services
from relief.models import ReliefCase
from tests.factories import make_elder
from tests.visits.factories import make_visit
from visits.models import CHECKLIST, Visit

pytestmark = pytest.mark.django_db
OUTBOX = {"HTTP_X_OUTBOX": "1"}


def now():
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def visit_form():
    return {"submission_key": str(uuid.uuid4()), "method": "phone", "outcome": "normal", "visited_at": now(),
            **{name: "normal" for name, _label in CHECKLIST}}


def report(elder, key, narrative="老人摔倒，右腿疼痛"):
    return {"elder": elder.pk, "case_type": "critical_illness", "urgency": "normal", "narrative": narrative,
            "submission_key": str(key)}


class TestCaseKey:
    def test_the_same_key_twice_stores_one_case(self, world):
        elder = make_elder(world.village, name="王秀英")
        key = uuid.uuid4()
        first = services.report_case(elder, case_type="other", urgency="normal", narrative="情况",
                                     acting_user=world.users["village"], submission_key=key)
        again = services.report_case(elder, case_type="other", urgency="normal", narrative="情况",
                                     acting_user=world.users["village"], submission_key=key)
        assert (first.created, again.created, again.pk) == (True, False, first.pk)
        assert ReliefCase.objects.count() == 1

    def test_the_report_page_posted_twice_with_its_key_stores_one_case(self, world, login):
        elder = make_elder(world.village, name="王秀英")
        client = login(world.users["village"])
        key = uuid.uuid4()
        first = client.post(reverse("relief:case_report"), report(elder, key))
        again = client.post(reverse("relief:case_report"), report(elder, key), follow=True)
        case = ReliefCase.objects.get()
        assert first.status_code == 302 and case.submission_key == key
        assert "这份报告已经上报过了，没有重复上报" in again.content.decode()

    def test_the_report_page_carries_a_fresh_key(self, world, login):
        make_elder(world.village, name="王秀英")
        client = login(world.users["village"])
        pages = [client.get(reverse("relief:case_report")).content.decode() for _ in range(2)]
        keys = [page.split('name="submission_key" value="')[1][:36] for page in pages]
        assert keys[0] != keys[1] and all(uuid.UUID(k) for k in keys)

    def test_a_key_used_for_another_elder_is_refused(self, world):
        one, other = make_elder(world.village, name="王秀英"), make_elder(world.village, name="李桂兰")
        key = uuid.uuid4()
        services.report_case(one, case_type="other", urgency="normal", narrative="情况",
                             acting_user=world.users["village"], submission_key=key)
        with pytest.raises(Exception, match="另一位老人"):
            services.report_case(other, case_type="other", urgency="normal", narrative="情况",
                                 acting_user=world.users["village"], submission_key=key)
        assert ReliefCase.objects.count() == 1


class TestOutboxAnswers:
    def test_a_visit_from_the_outbox_is_answered_in_json_and_stored_once(self, world, login):
        elder = make_elder(world.village, name="王秀英")
        client = login(world.users["village"])
        url = reverse("visits:record", args=[elder.pk])
        form = visit_form()
        first = client.post(url, form, **OUTBOX)
        again = client.post(url, form, **OUTBOX)
        assert first.status_code == 200, first.content.decode()[:500]
        assert first.json()["ok"] and first.json()["created"] and "已保存 王秀英 的巡访记录" in first.json()["message"]
        assert first.json()["url"] == reverse("visits:today")
        assert again.json()["ok"] and not again.json()["created"]
        assert Visit.objects.filter(elder=elder).count() == 1

    def test_a_visit_for_an_elder_who_moved_away_is_refused_with_the_reason(self, world, login):
        elder = make_elder(world.village, name="王秀英")
        make_visit(elder, world.users["village"], days_ago=3)
        Elder.objects.filter(pk=elder.pk).update(status=ElderStatus.MOVED)
        client = login(world.users["village"])
        response = client.post(reverse("visits:record", args=[elder.pk]), visit_form(), **OUTBOX)
        assert response.status_code == 422
        assert response.json() == {"ok": False, "reason": "该老人已迁出，未保存。"}
        assert Visit.objects.filter(elder=elder).count() == 1

    def test_a_report_for_an_elder_who_died_is_refused_with_the_reason(self, world, login):
        elder = make_elder(world.village, name="王秀英")
        client = login(world.users["village"])
        Elder.objects.filter(pk=elder.pk).update(status=ElderStatus.DECEASED)
        response = client.post(reverse("relief:case_report"), report(elder, uuid.uuid4()), **OUTBOX)
        assert response.status_code == 422
        assert response.json()["reason"] == "该老人已去世，未保存。"
        assert not ReliefCase.objects.exists()

    def test_a_report_from_the_outbox_missing_its_narrative_names_the_field(self, world, login):
        elder = make_elder(world.village, name="王秀英")
        client = login(world.users["village"])
        response = client.post(reverse("relief:case_report"), report(elder, uuid.uuid4(), narrative=""), **OUTBOX)
        assert response.status_code == 422
        assert response.json()["reason"].startswith("情况说明：请填写情况说明")

    def test_a_report_from_the_outbox_twice_is_one_case(self, world, login):
        elder = make_elder(world.village, name="王秀英")
        client = login(world.users["village"])
        key = uuid.uuid4()
        answers = [client.post(reverse("relief:case_report"), report(elder, key), **OUTBOX).json() for _ in range(2)]
        case = ReliefCase.objects.get()
        assert [a["created"] for a in answers] == [True, False]
        assert answers[1]["url"] == reverse("relief:case_detail", args=[case.pk])

    def test_an_expired_session_answers_the_login_redirect_not_json(self, world):
        elder = make_elder(world.village, name="王秀英")
        response = Client().post(reverse("relief:case_report"), report(elder, uuid.uuid4()), **OUTBOX)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        assert not ReliefCase.objects.exists()


class TestScriptEndpoints:
    def test_the_service_worker_is_served_from_the_root_and_revalidated(self, client):
        response = client.get("/sw.js")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/javascript")
        assert response["Service-Worker-Allowed"] == "/"
        assert response["Cache-Control"] == "no-cache"
        assert "Content-Security-Policy" in response
        assert b"ec-day-" in b"".join(response.streaming_content if response.streaming else [response.content])

    def test_session_status_anonymous_and_signed_in(self, world, login):
        anonymous = Client().get(reverse("session_status"))
        assert anonymous.json()["authenticated"] is False and anonymous.json()["user"] is None
        assert anonymous.json()["csrf"] and "csrftoken" in anonymous.cookies
        assert "no-store" in anonymous["Cache-Control"]
        client = login(world.users["village"])
        state = client.get(reverse("session_status")).json()
        assert state["authenticated"] is True and state["user"] == world.users["village"].pk

    def test_a_csrf_failure_says_so_in_a_header(self, world):
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.users["village"])
        elder = make_elder(world.village, name="王秀英")
        response = client.post(reverse("relief:case_report"), report(elder, uuid.uuid4()), **OUTBOX)
        assert response.status_code == 403 and response["X-CSRF-Failure"] == "1"
        assert "页面已过期" in response.content.decode()
        assert not ReliefCase.objects.exists()

    def test_other_403s_carry_no_csrf_header(self, world, login):
        client = login(world.users["village"])
        response = client.get(reverse("admin:eldercare_user_add"))
        assert "X-CSRF-Failure" not in response

    def test_the_pages_name_their_user_and_day_for_the_phone_scripts(self, world, login):
        client = login(world.users["village"])
        html = client.get(reverse("visits:today")).content.decode()
        assert f'data-user="{world.users["village"].pk}"' in html and "data-day=" in html
        assert "eldercare/outbox.js" in html and "eldercare/session.js" in html
        login_page = Client().get(reverse("login")).content.decode()
        assert "data-user=" not in login_page and "outbox.js" not in login_page


class TestSessionTimeLeft:
    def test_a_page_says_how_long_its_session_has_left(self, world, login):
        client = login(world.users["village"])
        left = int(client.get(reverse("visits:today")).content.decode().split('data-idle="')[1].split('"')[0])
        assert 29 * 60 <= left <= 30 * 60

    def test_the_twelve_hour_limit_counts_when_it_comes_first(self, world, login):
        import time

        from eldercare.middleware import LOGIN_AT_KEY

        client = login(world.users["village"])
        session = client.session
        session[LOGIN_AT_KEY] = time.time() - (12 * 3600 - 300)  # logged in 11 h 55 min ago
        session.save()
        left = int(client.get(reverse("visits:today")).content.decode().split('data-idle="')[1].split('"')[0])
        assert 280 <= left <= 300
