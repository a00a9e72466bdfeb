"""Town staff import a census workbook in a real browser, with a real background worker."""

import pytest
from openpyxl import load_workbook

from registry.models import Elder
from tests.census.helpers import person, write_workbook
from tests.census.test_worker import start_worker
from tests.factories import make_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_settings(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "private")}}}
    return settings


def test_town_uploads_previews_confirms_and_downloads_rejected_rows(desktop, phone, log_in, live_server, screenshot,
                                                                    tmp_path, worker_settings):
    world = make_world()
    rows = [person("李家湾村", "王秀英", phone="13800001111", guardian="张建华", relation="儿子",
                   guardian_phone="13900002222"),
            person("青龙村", "李桂兰", living="独居"),
            person("石板村", "外镇老人"),
            person("李家湾村", "赵大爷", "51152919500101001X")]
    path = write_workbook(tmp_path / "锦屏镇调查表.xlsx", rows)
    worker = start_worker(tmp_path)
    try:
        page = log_in(desktop, world.users["town"])
        page.goto(f"{live_server.url}/registry/census/")
        page.set_input_files("#id_file", str(path))
        page.click("text=上传并检查")
        page.wait_for_selector("text=确认导入")
        content = page.content()
        assert "不在您的辖区内" in content and "将新增的老人" in content and "没有巡访责任人" in content
        screenshot(page, "census-preview-desktop")

        page.click("button:has-text('确认导入')")
        try:
            page.wait_for_selector("text=导入结果", timeout=90_000)
        except Exception:
            from django_tasks_db.models import DBTaskResult

            from registry.census.models import CensusImport

            print(list(CensusImport.objects.values("status", "error")), list(DBTaskResult.objects.values()))
            print(page.content()[-3000:])
            raise
        assert Elder.objects.filter(name__in=["王秀英", "李桂兰"]).count() == 2
        screenshot(page, "census-result-desktop")
        with page.expect_download() as info:
            page.click("text=下载退回行表格")
        saved = tmp_path / "rejected.xlsx"
        info.value.save_as(saved)
        # The same on a phone (a new login ends the desktop session: its password is reset).
        result_url = page.url
        mobile = log_in(phone, world.users["town"])
        mobile.goto(result_url)
        screenshot(mobile, "census-result-phone")
        mobile.goto(f"{live_server.url}/registry/census/")
        mobile.set_input_files("#id_file", str(path))
        mobile.click("text=上传并检查")
        mobile.wait_for_selector("text=确认导入")
        screenshot(mobile, "census-preview-phone")
    finally:
        worker.terminate()
        worker.wait(10)
    sheet = load_workbook(saved).active
    header = [cell.value for cell in sheet[1]]
    assert header[-1] == "错误原因"
    names = {row[3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {"外镇老人", "赵大爷"}
