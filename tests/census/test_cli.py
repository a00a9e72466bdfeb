"""`manage.py import_census`: exit codes, --json, --strict, --dry-run, --errors-out."""

import gc
import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from registry.census.models import CensusImport
from registry.models import Elder
from tests.census.helpers import person, write_workbook

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _unfrozen():
    """The command freezes its process's heap (eldercare.jobs.freeze_startup_heap); here that
    process is the test run's, so each test starts and ends with nothing frozen."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def cli(capsys, *args):
    try:
        call_command("import_census", *map(str, args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, capsys.readouterr().out


def test_all_rows_accepted_exits_0_and_prints_json(tmp_path, world, capsys):
    path = write_workbook(tmp_path / "ok.xlsx", [person("李家湾村", "甲"), person("青龙村", "乙")])
    code, out = cli(capsys, path, "--user", "town", "--json")
    result = json.loads(out)
    assert code == 0
    assert {k: result[k] for k in ("new", "updated", "unchanged", "rejected", "warnings")} == {
        "new": 2, "updated": 0, "unchanged": 0, "rejected": 0, "warnings": 0}
    assert Elder.objects.count() == 2
    job = CensusImport.objects.get(pk=result["import_id"])
    assert job.status == "done" and job.new_count == 2
    assert set(Elder.objects.values_list("source_import_id", flat=True)) == {job.pk}


def test_some_rows_rejected_exits_1_and_writes_the_errors_workbook(tmp_path, world, capsys):
    path = write_workbook(tmp_path / "some.xlsx", [person("李家湾村", "甲"), person("石板村", "乙")])
    out_path = tmp_path / "errors.xlsx"
    code, out = cli(capsys, path, "--user", "town", "--json", "--errors-out", out_path)
    assert code == 1 and json.loads(out)["rejected"] == 1
    assert Elder.objects.filter(name="甲").exists()
    sheet = load_workbook(out_path).active
    assert sheet.cell(1, sheet.max_column).value == "错误原因" and sheet.max_row == 2


def test_strict_refuses_the_whole_file(tmp_path, world, capsys):
    path = write_workbook(tmp_path / "some.xlsx", [person("李家湾村", "甲"), person("石板村", "乙")])
    code, out = cli(capsys, path, "--user", "town", "--strict", "--json")
    assert code == 1 and json.loads(out)["written"] is False
    assert not Elder.objects.exists()


def test_dry_run_writes_nothing(tmp_path, world, capsys):
    path = write_workbook(tmp_path / "ok.xlsx", [person("李家湾村", "甲")])
    code, out = cli(capsys, path, "--user", "village", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["new"] == 1
    assert not Elder.objects.exists() and not CensusImport.objects.exists()


def test_unreadable_file_exits_2_with_a_message(tmp_path, world, capsys):
    path = tmp_path / "fake.xlsx"
    path.write_text("这不是表格")
    code, out = cli(capsys, path, "--user", "town", "--json")
    assert code == 2 and "扩展名" in json.loads(out)["error"]


def test_the_command_line_entry_point_exits_with_the_status(tmp_path):
    # The real process: exit status as a shell sees it (a missing file: status 2).
    result = subprocess.run([sys.executable, "manage.py", "import_census", str(tmp_path / "none.xlsx"), "--user",
                             "nobody-here"], capture_output=True, text=True, env={"DEBUG": "1", "PATH": ""})
    assert result.returncode != 0


def test_the_command_keeps_the_collector_off_its_startup_heap_a_web_request_does_not(tmp_path, world, capsys, login):
    """import_census is a batch process: it freezes what it started with (eldercare.jobs); an
    upload checked inside a web request changes no interpreter setting."""
    from tests.census.test_pages import upload

    settings_now = lambda: (gc.isenabled(), gc.get_threshold(), gc.get_freeze_count(), sys.getswitchinterval())  # noqa: E731
    before = settings_now()
    upload(login(world.users["town"]), write_workbook(tmp_path / "web.xlsx", [person("李家湾村", "甲")]))
    assert CensusImport.objects.get().preview, "the preview ran inside the request"
    assert settings_now() == before
    code, _ = cli(capsys, write_workbook(tmp_path / "cli.xlsx", [person("青龙村", "乙")]), "--user", "town")
    assert code == 0 and before[2] == 0 < gc.get_freeze_count()
