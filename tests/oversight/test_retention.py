"""Retention (docs/access.md): elders who died or moved away more than RETENTION_YEARS ago lose
their identifiers — in the live rows and in every history row — while the records and their
history stay; a dry run lists them and changes nothing."""

import io
import re
from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from registry.models import CareAgreement, Elder, ElderStatus, Guardian
from registry.retention import PLACEHOLDER, event_model
from registry.services import change_status
from tests.factories import make_elder, make_guardian
from tests.visits.factories import make_visit
from visits.models import Visit

pytestmark = pytest.mark.django_db

ID_NUMBER = "511529194203150025"


def tables_containing(text: str) -> list[str]:
    """Every table in which some row's text holds `text` (history tables included)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        found = []
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT 1 FROM "{table}" t WHERE t::text LIKE %s LIMIT 1', [f"%{text}%"])
            if cursor.fetchone():
                found.append(table)
        return found


@pytest.fixture
def departed(world, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    today = timezone.localdate()
    town = world.users["town"]
    elder = make_elder(world.village, name="欧阳秀珍", id_number=ID_NUMBER, phones=["13912340077"],
                       address="李家湾村三组 7 号", notes="长子欧阳建国在外务工")
    own = make_guardian(elder, name="欧阳建国", phone="13700009999", whereabouts="广东东莞")
    stays = make_elder(world.village, name="欧阳德明")
    shared = make_guardian(stays, name="欧阳建军", phone="13600008888", is_primary=True)
    elder.guardian_links.create(guardian=shared, relation="son", is_primary=False)
    agreement = CareAgreement.objects.create(elder=elder, guardian=own, caregiver_name="李桂兰",
                                             caregiver_phone="13500007777", start_date=date(2018, 1, 1))
    agreement.document.save("agreement.pdf", ContentFile(b"%PDF-1.4 scan"))
    visit = make_visit(elder, world.users["village"], days_ago=3000, met_with="欧阳秀珍本人", notes="欧阳秀珍腿脚不便")
    visit.photo.save("face.jpg", ContentFile(b"jpeg"))
    change_status(elder, to_status=ElderStatus.DECEASED, changed_on=today - timedelta(days=6 * 366),
                  reason="病故", acting_user=town)
    recent = make_elder(world.village, name="迁出两年")
    change_status(recent, to_status=ElderStatus.MOVED, changed_on=today - timedelta(days=2 * 366),
                  reason="随子女迁往县城", acting_user=town)
    return elder, own, shared, agreement, visit, stays, recent


def test_dry_run_lists_the_elders_due_and_changes_nothing(departed):
    elder, own, _, agreement, visit, *_ = departed
    out = io.StringIO()
    call_command("deidentify_departed", "--user", "town", "--dry-run", stdout=out)
    assert f"#{elder.pk} 李家湾村 死亡" in out.getvalue()
    assert "将去标识化：1 位死亡或迁出满 5 年的老人，赡养人 1 位，委托照顾协议 1 份，巡访记录 1 条，文件 2 个" in out.getvalue()
    assert re.search(r"修改历史 (\d+) 行", out.getvalue()).group(1) == str(sum(
        event_model(model).objects.filter(pgh_obj_id__in=ids).count() for model, ids in (
            (Elder, [elder.pk]), (Guardian, [own.pk]), (CareAgreement, [agreement.pk]), (Visit, [visit.pk]))))
    assert Elder.objects.get(pk=elder.pk).name == "欧阳秀珍"
    assert tables_containing(ID_NUMBER)


def test_identifiers_leave_the_rows_and_the_history_while_the_records_stay(departed, django_capture_on_commit_callbacks):
    elder, own, shared, agreement, visit, stays, recent = departed
    files = [agreement.document.name, visit.photo.name]
    assert all(default_storage.exists(name) for name in files)
    history = event_model(Elder).objects.filter(pgh_obj_id=elder.pk)
    history_before = history.count()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # the files go once the transaction commits
        call_command("deidentify_departed", "--user", "town", stdout=out)
    assert "已去标识化：1 位" in out.getvalue()

    for text in (ID_NUMBER, "欧阳秀珍", "13912340077", "李家湾村三组", "欧阳建国", "13700009999", "广东东莞",
                 "李桂兰", "13500007777", "腿脚不便"):
        assert tables_containing(text) == [], text
    elder = Elder.objects.get(pk=elder.pk)
    assert (elder.name, elder.phones, elder.address, elder.notes) == (PLACEHOLDER, [], "", "")
    assert elder.id_number == f"X{elder.pk:017d}"
    assert elder.birth_date == date(1942, 1, 1) and elder.sex == "female"  # the year stays for statistics
    assert elder.status == ElderStatus.DECEASED and elder.status_changes.count() == 1
    assert Guardian.objects.get(pk=own.pk).name == PLACEHOLDER
    assert Guardian.objects.get(pk=shared.pk).name == "欧阳建军"  # still needed by an elder on the register
    assert Elder.objects.get(pk=stays.pk).name == "欧阳德明" and Elder.objects.get(pk=recent.pk).name == "迁出两年"
    agreement = CareAgreement.objects.get(pk=agreement.pk)
    assert (agreement.caregiver_name, agreement.document.name, agreement.start_date) == (PLACEHOLDER, "", date(2018, 1, 1))
    visit = Visit.objects.get(pk=visit.pk)
    assert (visit.notes, visit.met_with, visit.photo.name, visit.method) == ("", "", "", "phone")
    assert not any(default_storage.exists(name) for name in files)  # the scan and the photo
    # the history stays, one row longer: the de-identification itself, with who ran it
    assert history.count() == history_before + 1 >= 3
    assert history.order_by("pgh_id").last().pgh_context.metadata["reason"] == "retention"

    again = io.StringIO()
    call_command("deidentify_departed", "--user", "town", stdout=again)
    assert "已去标识化：0 位" in again.getvalue()


def test_bad_arguments_are_refused_with_the_reason(departed):
    with pytest.raises(CommandError, match="至少为 1"):
        call_command("deidentify_departed", "--user", "town", "--years", "0")
    with pytest.raises(CommandError, match="没有用户名为 nobody 的账号"):
        call_command("deidentify_departed", "--user", "nobody")
