"""The import pages as staff use them: upload → preview → confirm → result; file errors; queries."""

import io
from datetime import date
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from eldercare.models import AccessEvent
from registry.census import services
from registry.census.models import CensusImport
from registry.census.template import format_row
from registry.models import Elder
from tests.census.helpers import person, write_workbook
from tests.census.test_streaming_reader import rows_of  # noqa: F401  (shared helper)
from tests.factories import make_elder, make_guardian, make_id_number

pytestmark = pytest.mark.django_db


def upload(client, path, name=None):
    with open(path, "rb") as handle:
        return client.post(reverse("census:imports"), {"file": SimpleUploadedFile(name or path.name, handle.read())})


def test_upload_preview_confirm_result(login, world, tmp_path, django_capture_on_commit_callbacks):
    client = login(world.users["town"])
    path = write_workbook(tmp_path / "锦屏镇.xlsx", [person("李家湾村", "王秀英"), person("石板村", "外村人")])
    response = upload(client, path)
    job = CensusImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("census:detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "待确认" in page and "确认导入" in page
    assert "第 4 行" in page and "不在您的辖区内" in page and "石板村" in page
    assert not Elder.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("census:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "done" and (job.new_count, job.rejected_count) == (1, 1)
    page = client.get(reverse("census:detail", args=[job.pk])).content.decode()
    assert "下载退回行表格" in page
    response = client.get(reverse("census:rejected", args=[job.pk]))
    assert response.status_code == 200
    assert AccessEvent.objects.filter(user=world.users["town"], kind="download").count() == 1
    assert Elder.objects.get().name == "王秀英"
    history = client.get(reverse("census:imports")).content.decode()
    assert "锦屏镇.xlsx" in history and "新增 1" in history


def _encrypted(path):
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100 + "EncryptedPackage".encode("utf-16-le"))
    return path


def _bytes(data):
    def make(path):
        path.write_bytes(data(path) if callable(data) else data)
        return path

    return make


@pytest.mark.parametrize("name,make,expected", [
    ("empty.xlsx", _bytes(b""), "空的"),
    ("renamed.xlsx", _bytes("姓名,身份证号\n".encode()), "扩展名"),
    ("truncated.xlsx", _bytes(lambda p: write_workbook(p, [person()]).read_bytes()[:300]), "损坏"),
    ("secret.xlsx", _encrypted, "密码"),
    ("photo.jpg", _bytes(b"\xff\xd8\xff"), "不支持"),
])
def test_bad_files_get_a_clear_message_never_a_500(login, world, tmp_path, name, make, expected):
    client = login(world.users["village"])
    path = make(tmp_path / name)
    response = upload(client, path)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "失败" in page and expected in page


def test_too_big_is_refused_before_storing(login, world, tmp_path, settings):
    settings.CENSUS_MAX_UPLOAD_BYTES = 1000
    client = login(world.users["town"])
    path = write_workbook(tmp_path / "big.xlsx", [person() for _ in range(30)])
    response = upload(client, path)
    assert response.status_code == 400 and "文件太大" in response.content.decode()
    assert not CensusImport.objects.exists()


def test_county_sees_history_but_cannot_upload(login, world, tmp_path):
    client = login(world.users["county"])
    page = client.get(reverse("census:imports")).content.decode()
    assert "上传并检查" not in page
    path = write_workbook(tmp_path / "a.xlsx", [person()])
    assert upload(client, path).status_code == 404


def _preview_queries(world, tmp_path, count, django_assert_num_queries, queries=None):
    rows = [person("李家湾村", f"老人{i}", guardian="张建华", guardian_phone="13900002222") for i in range(count)]
    for i in range(0, count, 2):  # half of them already registered
        make_elder(world.village, name=f"老人{i}", id_number=rows[i][4])
    path = write_workbook(tmp_path / f"p{count}.xlsx", rows)
    job = services.store_upload(SimpleUploadedFile("p.xlsx", path.read_bytes()), acting_user=world.users["town"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        services.run_preview(job.pk)
    job.refresh_from_db()
    assert job.new_count + job.updated_count == count
    return len(ctx.captured_queries)


def test_preview_query_count_does_not_grow_with_rows(world, tmp_path, django_assert_num_queries):
    small = _preview_queries(world, tmp_path, 20, django_assert_num_queries)
    Elder.objects.all().delete()
    large = _preview_queries(world, tmp_path, 200, django_assert_num_queries)
    assert small == large


def test_ledger_round_trip_imports_back_with_zero_changes(world, tmp_path):
    elder = make_elder(world.village, name="王秀英", phones=["13800001111"], living="alone", dibao=True,
                       village_group="第3组", income_sources=["pension"], surveyed_on=date(2025, 5, 1))
    make_guardian(elder, name="张建华", phone="13900002222", relation="son", whereabouts="浙江宁波")
    values = {"village": "李家湾村", "name": elder.name, "id_number": elder.id_number, "phones": elder.phones,
              "living": "alone", "dibao": True, "village_group": "第3组", "income_sources": ["pension"],
              "surveyed_on": date(2025, 5, 1),
              "guardians": [{"name": "张建华", "relation": "son", "phone": "13900002222", "whereabouts": "浙江宁波"}]}
    from openpyxl import Workbook

    from registry.census.columns import CENSUS_COLUMNS

    workbook = Workbook()
    workbook.active.append([c.title for c in CENSUS_COLUMNS])
    workbook.active.append(format_row(values))
    path = tmp_path / "ledger.xlsx"
    workbook.save(path)
    outcome = services.execute(str(path), filename="ledger.xlsx", user=world.users["village"])
    assert (outcome.new, outcome.updated, outcome.unchanged, outcome.rejected) == (0, 0, 1, 0)


def test_template_download_lists_the_users_own_towns_and_villages(login, world):
    import io

    from openpyxl import load_workbook

    for user, towns, villages in (("village", [world.village.parent.name], [world.village.name]),
                                  ("town", [world.village.parent.name], None)):
        response = login(world.users[user]).get(reverse("census:template"))
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        options = load_workbook(io.BytesIO(response.content))["选项"]
        lists = {column[0].value: [c.value for c in column[1:] if c.value is not None] for column in options.columns}
        assert lists["乡镇"] == towns
        assert world.village.name in lists["村（社区）"] and world.other_village.name not in lists["村（社区）"]
        if villages:
            assert lists["村（社区）"] == villages


def test_two_row_headers_and_numeric_id_cells(world, tmp_path):
    from openpyxl import Workbook

    good = make_id_number(date(1950, 2, 3))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["锦屏镇农村留守老年人基本情况调查表"])
    sheet.append(["村", "姓名", "身份证号码", "主要赡养人", None])
    sheet.append([None, None, None, "姓名", "联系电话"])
    sheet.merge_cells("D2:E2")
    sheet.append(["李家湾村", "王秀英", good, "张建华", "13900002222"])
    sheet.append(["李家湾村", "李桂兰", 511529195002030000, None, None])  # an ID typed as a number
    path = tmp_path / "two.xlsx"
    workbook.save(path)
    outcome = services.execute(str(path), filename="two.xlsx", user=world.users["village"])
    assert (outcome.new, outcome.rejected) == (1, 1)
    assert "文本" in outcome.rejected_rows[0]["issues"][0]["message"]
    assert Elder.objects.get().guardian_links.get().guardian.phone == "13900002222"


def test_uploads_and_rejected_workbooks_are_deleted_after_the_retention_period(world, finished_import, settings):
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.utils import timezone

    old, recent = finished_import(), finished_import()
    assert old.rejected_path and default_storage.exists(old.stored_path)
    CensusImport.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=settings.CENSUS_RETENTION_DAYS + 1))
    stored, rejected = old.stored_path, old.rejected_path
    call_command("purge_census_uploads")
    old.refresh_from_db()
    assert not default_storage.exists(stored) and not default_storage.exists(rejected)
    assert old.files_purged_at and old.new_count == 1  # the record stays
    assert default_storage.exists(recent.stored_path) and default_storage.exists(recent.rejected_path)


def test_an_import_without_progress_for_too_long_is_marked_failed(world, finished_import, settings):
    from datetime import timedelta

    from django.utils import timezone

    job = finished_import()
    CensusImport.objects.filter(pk=job.pk).update(
        status="running", heartbeat_at=timezone.now() - timedelta(seconds=settings.CENSUS_STALE_SECONDS + 5),
        worker_host="another-host")
    assert services.refresh_stale() == 1
    job.refresh_from_db()
    assert job.status == "failed"


def test_a_preview_inside_the_request_is_bounded_by_what_the_file_inflates_to(login, world, tmp_path, monkeypatch,
                                                                              django_capture_on_commit_callbacks):
    """A small upload is checked at once; one that is small only because it compresses well
    (here 0.7 MB holding 5 MB of sheet XML) goes to the queue, and the page shows its progress."""
    from bench.make_census_workbook import write_census_workbook

    ran = []
    monkeypatch.setattr(services, "run_preview", lambda pk, **bounds: ran.append(("here", bounds)))
    monkeypatch.setattr(services, "preview_census_import",
                        SimpleNamespace(enqueue=lambda pk: ran.append(("queued", {})) or SimpleNamespace(id="t")))
    client = login(world.users["town"])
    upload(client, write_workbook(tmp_path / "small.xlsx", [person()]))
    big = tmp_path / "big.xlsx"
    write_census_workbook(big, 4000, seed=2, today=date(2026, 6, 1))
    assert big.stat().st_size < services.SYNC_PREVIEW_BYTES
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, big)
    assert ran == [("here", {"max_inflated": services.SYNC_PREVIEW_BYTES}), ("queued", {})]


def test_the_preview_lists_new_rows_and_each_updated_fields_old_and_new_value(login, world, tmp_path):
    existing = make_elder(world.village, name="王秀英", living="alone", phones=["13800001111"])
    make_guardian(existing, name="张建华", relation="son", phone="13800001234")
    rows = [person("李家湾村", "王秀英", existing.id_number, living="与配偶同住", phone="13900002222",
                   guardian="张建华", relation="女婿"),
            person("李家湾村", "新来的", make_id_number(date(1950, 1, 2)), guardian="李强", relation="儿子",
                   guardian_phone="13900003333")]
    client = login(world.users["town"])
    upload(client, write_workbook(tmp_path / "a.xlsx", rows))
    job = CensusImport.objects.get()
    page = client.get(reverse("census:detail", args=[job.pk])).content.decode()
    assert "将更新的行" in page and "将新增的老人" in page
    updated = page[page.index('id="census-updated"'):page.index('id="census-new"')]
    assert "第 3 行" in updated and "王秀英" in updated
    assert "<td>居住情况</td><td>独居</td><td>与配偶同住</td>" in updated
    assert "<td>联系电话</td><td>138****1111</td><td>139****2222</td>" in updated  # masked, as on lists
    assert "<td>赡养人 张建华 的与老人关系</td><td>子</td><td>女婿</td>" in updated
    assert existing.id_number not in page and existing.id_number[:6] + "********" in updated
    new = page[page.index('id="census-new"'):]
    assert "第 4 行" in new and "新来的" in new and "李家湾村" in new
    assert "没有巡访责任人" in page  # imported elders get none: the page says so
    assert not Elder.objects.filter(name="新来的").exists()  # nothing written by the preview


def test_the_preview_lists_are_paged(login, world, tmp_path):
    rows = [person("李家湾村", f"老人{i}", make_id_number(date(1950, 1, 1) + (date(1950, 1, 2) - date(1950, 1, 1)) * i))
            for i in range(45)]
    client = login(world.users["town"])
    upload(client, write_workbook(tmp_path / "a.xlsx", rows))
    job = CensusImport.objects.get()
    url = reverse("census:detail", args=[job.pk])
    first = client.get(url).content.decode()
    assert "第 1 / 3 页" in first and "老人0<" in first.replace(" ", "") and "老人20" not in first
    second = client.get(url, {"new": 2}).content.decode()
    assert "第 2 / 3 页" in second and "老人20" in second and "老人19<" not in second.replace(" ", "")
    assert "老人44" in client.get(url, {"new": 99}).content.decode()  # past the end: the last page


def test_rejected_rows_download_before_confirming_and_an_all_rejected_file_needs_no_confirm(
        login, world, tmp_path, django_capture_on_commit_callbacks):
    from openpyxl import load_workbook

    client = login(world.users["town"])
    upload(client, write_workbook(tmp_path / "a.xlsx", [person("石板村", "外村人"), person("李家湾村", "小孩",
                                                         make_id_number(date(1990, 1, 1)))]))
    job = CensusImport.objects.get()
    assert job.status == "previewed" and job.rejected_count == 2
    page = client.get(reverse("census:detail", args=[job.pk])).content.decode()
    assert "下载退回行表格" in page and "不需要确认导入" in page
    assert reverse("census:confirm", args=[job.pk]) not in page
    response = client.get(reverse("census:rejected", args=[job.pk]))
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert [row[3] for row in rows[1:]] == ["外村人", "小孩"] and rows[0][-1] == "错误原因"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("census:confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "previewed"  # nothing to write: not queued
