"""Recording and correcting visits: late entry, future rejection, idempotency, the 48-hour rule,
follow-ups, guardian duties and the photo."""

import io
import threading
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from registry.models import DutyObservation
from tests.factories import make_elder, make_guardian
from tests.visits.factories import make_visit
from visits.models import Visit
from visits.services import record_visit, update_visit

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    """What the form posts for a phone call where all is well (the defaults)."""
    data = {
        "submission_key": str(uuid.uuid4()),
        "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "method": "phone", "met_with": "本人",
        "health_check": "normal", "mental_check": "normal", "housing_check": "normal", "fire_check": "normal",
        "weather_check": "normal", "diet_check": "normal", "hygiene_check": "normal", "family_check": "normal",
        "checklist_note": "", "outcome": "normal", "needs_raised": "", "notes": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def elder(world):
    return make_elder(world.village, name="王秀英", phones=["13912345678"])


def test_form_defaults_make_a_phone_call_a_few_taps(login, world, elder):
    response = login(world.users["village"]).get(reverse("visits:record", args=[elder.pk]))
    form = response.context["form"]
    assert form["method"].value() == "phone"
    assert all(field.value() == "normal" for field in form.checklist_fields)
    assert form["outcome"].value() == "normal"
    assert form["submission_key"].value()
    assert 'href="tel:13912345678"' in response.content.decode()


def test_village_staff_record_a_phone_visit(login, world, elder):
    client = login(world.users["village"])
    response = client.post(reverse("visits:record", args=[elder.pk]), form_data(), follow=True)
    assert "已保存 王秀英 的巡访记录" in response.content.decode()
    visit = Visit.objects.get(elder=elder)
    assert visit.visitor == world.users["village"] and visit.method == "phone"


def test_a_visit_from_yesterday_can_be_entered_late(login, world, elder):
    yesterday = timezone.localtime() - timedelta(days=1)
    login(world.users["village"]).post(reverse("visits:record", args=[elder.pk]),
                                       form_data(visited_at=yesterday.strftime("%Y-%m-%dT%H:%M")))
    visit = Visit.objects.get(elder=elder)
    assert timezone.localdate(visit.visited_at) == yesterday.date()


def test_a_visit_in_the_future_is_rejected_with_a_clear_message_and_the_form_kept(login, world, elder):
    tomorrow = timezone.localtime() + timedelta(days=1)
    response = login(world.users["village"]).post(
        reverse("visits:record", args=[elder.pk]),
        form_data(visited_at=tomorrow.strftime("%Y-%m-%dT%H:%M"), needs_raised="想要助餐"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "巡访时间不能晚于现在" in page
    assert "想要助餐" in page  # the form keeps what was typed
    assert not Visit.objects.exists()


def test_an_entry_older_than_30_days_is_refused(world, elder):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="30 天内"):
        record_visit(elder, acting_user=world.users["village"], submission_key=uuid.uuid4(),
                     visited_at=timezone.now() - timedelta(days=31))


def test_an_overdue_elder_can_always_be_visited(login, world, elder):
    make_visit(elder, world.users["village"], days_ago=29 + 30)  # weeks overdue
    login(world.users["village"]).post(reverse("visits:record", args=[elder.pk]), form_data())
    assert elder.visits.count() == 2


def test_the_same_submission_posted_twice_stores_one_visit_and_shows_it(login, world, elder):
    client = login(world.users["village"])
    data = form_data()
    client.post(reverse("visits:record", args=[elder.pk]), data)
    response = client.post(reverse("visits:record", args=[elder.pk]), data, follow=True)
    assert Visit.objects.filter(elder=elder).count() == 1
    visit = Visit.objects.get(elder=elder)
    assert response.redirect_chain[-1][0] == reverse("visits:visit", args=[visit.pk])
    assert "这次巡访已经保存过了" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_with_one_key_store_one_visit():
    from tests.factories import make_world

    world = make_world()
    elder = make_elder(world.village)
    key = uuid.uuid4()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def submit():
        try:
            barrier.wait()
            results.append(record_visit(elder, acting_user=world.users["village"], submission_key=key,
                                        visited_at=timezone.now()))
        except Exception as error:  # noqa: BLE001 — reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Visit.objects.filter(submission_key=key).count() == 1
    assert sorted(created for _visit, created in results) == [False, True]
    assert results[0][0].pk == results[1][0].pk


def test_a_key_reused_for_another_elder_is_refused(world, elder):
    from django.core.exceptions import ValidationError

    key = uuid.uuid4()
    record_visit(elder, acting_user=world.users["village"], submission_key=key, visited_at=timezone.now())
    other = make_elder(world.village, name="李桂兰")
    with pytest.raises(ValidationError):
        record_visit(other, acting_user=world.users["village"], submission_key=key, visited_at=timezone.now())


def test_village_staff_cannot_record_for_another_village(login, world):
    elder = make_elder(world.village2)
    response = login(world.users["village"]).post(reverse("visits:record", args=[elder.pk]), form_data())
    assert response.status_code == 404
    assert not Visit.objects.exists()


def test_village_staff_correct_a_visit_within_48_hours(login, world, elder):
    visit = make_visit(elder, world.users["village"], notes="")
    client = login(world.users["village"])
    data = form_data(notes="老人说腿疼")
    data.pop("submission_key")
    client.post(reverse("visits:edit", args=[visit.pk]), data)
    visit.refresh_from_db()
    assert visit.notes == "老人说腿疼"


def test_after_48_hours_only_town_staff_may_edit(login, world, elder):
    visit = make_visit(elder, world.users["village"], days_ago=2)
    Visit.objects.filter(pk=visit.pk).update(created_at=timezone.now() - timedelta(hours=49))
    data = form_data(notes="改过")
    data.pop("submission_key")
    client = login(world.users["village"])
    response = client.post(reverse("visits:edit", args=[visit.pk]), data, follow=True)
    assert "只能由乡镇民政办修改" in response.content.decode()
    visit.refresh_from_db()
    assert visit.notes == ""
    with pytest.raises(PermissionDenied):
        update_visit(visit, acting_user=world.users["village"], notes="绕过页面")

    client = login(world.users["town"])
    client.post(reverse("visits:edit", args=[visit.pk]), data)
    visit.refresh_from_db()
    assert visit.notes == "改过"


def test_edits_are_in_the_audit_trail(world, elder):
    from eldercare.audit import history_of

    visit = make_visit(elder, world.users["village"])
    update_visit(visit, acting_user=world.users["village"], outcome="attention")
    events = list(history_of(visit))
    assert [e.pgh_label for e in events][:2] == ["update", "insert"]


def test_guardian_duties_observed_at_the_visit_feed_the_register(login, world, elder):
    guardian = make_guardian(elder, name="王建国")
    login(world.users["village"]).post(reverse("visits:record", args=[elder.pk]), form_data(
        duty_guardian=guardian.pk, duty_economic="fulfilled", duty_emotional="not"))
    observations = {(o.duty, o.fulfilment) for o in DutyObservation.objects.filter(elder=elder, guardian=guardian)}
    assert observations == {("economic", "fulfilled"), ("emotional", "not")}


def test_duties_without_a_guardian_ask_which_guardian(login, world, elder):
    make_guardian(elder)
    response = login(world.users["village"]).post(reverse("visits:record", args=[elder.pk]),
                                                  form_data(duty_care="partly"))
    assert "请选择是哪一位赡养人" in response.content.decode()
    assert not Visit.objects.exists()


def test_report_to_town_without_the_relief_page_shows_a_message(login, world, elder):
    from django.urls import NoReverseMatch

    response = login(world.users["village"]).post(reverse("visits:record", args=[elder.pk]),
                                                  form_data(report_to_town="on", outcome="help"), follow=True)
    visit = Visit.objects.get(elder=elder)
    assert visit.report_to_town
    try:
        reverse("relief:case_from_visit", args=[visit.pk])
    except NoReverseMatch:
        assert "已标记“上报乡镇”" in response.content.decode()
    else:
        assert response.redirect_chain[-1][0] == reverse("relief:case_from_visit", args=[visit.pk])


def test_photo_is_resized_to_a_jpeg_and_served_only_in_scope(login, world, elder, settings, tmp_path):
    from PIL import Image

    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), "green").save(buffer, format="PNG")
    upload = SimpleUploadedFile("yard.png", buffer.getvalue(), content_type="image/png")
    login(world.users["village"]).post(reverse("visits:record", args=[elder.pk]), form_data(photo=upload))
    visit = Visit.objects.get(elder=elder)
    with Image.open(visit.photo.open("rb")) as stored:
        assert stored.format == "JPEG" and max(stored.size) == 1600
    assert str(tmp_path) in visit.photo.path  # private storage, no public URL

    response = login(world.users["village"]).get(reverse("visits:photo", args=[visit.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    for username in ("village2", "clinic", "police", "other_town"):
        response = login(world.users[username]).get(reverse("visits:photo", args=[visit.pk]))
        assert response.status_code == 404, username


def test_a_file_that_is_not_an_image_is_refused_with_a_message(login, world, elder):
    upload = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    response = login(world.users["village"]).post(reverse("visits:record", args=[elder.pk]), form_data(photo=upload))
    assert "照片无法识别" in response.content.decode() or "上传一个有效的图片" in response.content.decode()
    assert not Visit.objects.exists()


class TestResultFollowsTheChecklist:
    def test_a_problem_item_with_result_normal_is_refused_naming_the_item(self, login, world, elder):
        client = login(world.users["village"])
        response = client.post(reverse("visits:record", args=[elder.pk]),
                               form_data(housing_check="problem", fire_check="problem", outcome="normal"))
        html = response.content.decode()
        assert response.status_code == 200
        assert "居住安全·房屋、居住安全·用火用电为“有问题”，巡访结果不能是“正常”" in html
        assert not Visit.objects.exists()

    def test_a_problem_item_with_result_attention_is_stored(self, login, world, elder):
        client = login(world.users["village"])
        client.post(reverse("visits:record", args=[elder.pk]), form_data(housing_check="problem", outcome="attention"))
        assert Visit.objects.get(elder=elder).outcome == "attention"

    def test_a_fair_item_may_still_end_normal(self, login, world, elder):
        client = login(world.users["village"])
        client.post(reverse("visits:record", args=[elder.pk]), form_data(diet_check="fair", outcome="normal"))
        assert Visit.objects.get(elder=elder).outcome == "normal"

    def test_the_service_refuses_it_too_and_a_correction_cannot_introduce_it(self, world, elder):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError) as caught:
            record_visit(elder, acting_user=world.users["village"], submission_key=uuid.uuid4(),
                         visited_at=timezone.now(), health_check="problem", outcome="normal")
        assert "outcome" in caught.value.message_dict and not Visit.objects.exists()
        visit = make_visit(elder, world.users["village"])
        with pytest.raises(ValidationError):
            update_visit(visit, acting_user=world.users["village"], mental_check="problem")
        visit.refresh_from_db()
        assert visit.mental_check == "normal"
