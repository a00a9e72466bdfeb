"""Backups proven by restoring them: `backup` writes one archive of the database and the uploaded
documents with a checksum, and `restore_drill` restores it into a scratch database and folder
and finds every difference from what was backed up — here on the demo data."""

import hashlib
import io
import json
import os
import tarfile
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from pghistory.models import Events

from eldercare import backups, demo
from registry.models import Elder, Guardian
from tests.factories import make_elder

pytestmark = pytest.mark.slow


@pytest.fixture
def demo_data(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "private"}}}
    settings.BACKUP_DIR = tmp_path / "backups"
    demo.seed(scale=False, log=lambda *args: None)
    scans = tmp_path / "private" / "agreements" / "2026"
    scans.mkdir(parents=True)
    (scans / "协议-张桂英.pdf").write_bytes(b"%PDF-1.4 agreement scan\n" * 100)
    (scans / "photo.jpg").write_bytes(os.urandom(5000))
    return tmp_path


def scratch_databases():
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{connection.settings_dict['NAME']}_drill_%"])
        return [row[0] for row in cursor.fetchall()]


def rewrite(archive, change):
    """Repack an archive after change(manifest, members) and give it a matching checksum."""
    with tarfile.open(archive) as tar:
        members = {member.name: tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()}
    manifest = json.loads(members["manifest.json"])
    change(manifest, members)
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(archive, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive.with_name(archive.name + ".sha256").write_text(
        f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  {archive.name}\n")


@pytest.mark.django_db(transaction=True)
def test_backup_of_the_demo_data_restores_with_every_row_history_row_and_file(demo_data):
    call_command("backup", stdout=io.StringIO())
    archive = backups.latest(demo_data / "backups")
    assert archive.stat().st_mode & 0o777 == 0o600
    checksum = archive.with_name(archive.name + ".sha256").read_text()
    assert checksum == f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  {archive.name}\n"  # sha256sum -c reads it
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert {"manifest.json", "database.dump", "media/agreements/2026/协议-张桂英.pdf"} <= set(names)
    assert manifest["tables"]["registry_elder"]["rows"] == Elder.objects.count() > 100
    assert "registry_elderevent" in manifest["history_tables"]

    make_elder(Elder.objects.first().village, name="备份后登记", id_number="110101193001010018")  # after the backup: the drill compares with the backup, not today
    out = io.StringIO()
    call_command("restore_drill", "--latest", stdout=out)
    assert "与备份时完全一致，备份可用" in out.getvalue()

    report = backups.restore_drill(archive)
    assert report.ok, report.problems
    assert report.rows == sum(table["rows"] for table in manifest["tables"].values())
    assert report.history_rows == Events.objects.count() - 1 > 1000  # all but the new elder's insert event
    assert report.media_files == 2
    assert scratch_databases() == []  # the scratch database is dropped afterwards


@pytest.mark.django_db(transaction=True)
def test_drill_reports_missing_rows_changed_rows_and_missing_files(demo_data):
    archive = backups.create_backup(demo_data / "backups")

    def damage(manifest, members):
        manifest["tables"]["registry_elder"]["rows"] += 1
        manifest["tables"]["registry_guardian"]["digest"] = "0"
        del members["media/agreements/2026/photo.jpg"]

    rewrite(archive, damage)
    report = backups.restore_drill(archive)
    elders = Elder.objects.count()
    assert report.problems == [
        f"表 registry_elder：备份时 {elders + 1} 行，恢复后 {elders} 行",
        f"表 registry_guardian：行数相同（{Guardian.objects.count()}）但内容不同",
        "文件 agreements/2026/photo.jpg 没有恢复出来",
    ]
    with pytest.raises(CommandError, match="不一致"):
        call_command("restore_drill", str(archive), stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_damaged_archive_is_refused_before_anything_is_restored(demo_data):
    archive = backups.create_backup(demo_data / "backups")
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="SHA-256 .*不符"):
        call_command("restore_drill", str(archive), stdout=io.StringIO())
    assert scratch_databases() == []


def test_old_archives_are_pruned_but_the_newest_is_always_kept(tmp_path):
    for stamp, age_days in (("20261021", 40), ("20261026", 35), ("20261129", 1)):
        path = tmp_path / f"eldercare-{stamp}-023000.tar"
        path.write_bytes(b"x")
        (tmp_path / f"{path.name}.sha256").write_text("x")
        os.utime(path, (time.time() - age_days * 86400,) * 2)
    removed = backups.prune(tmp_path, keep_days=30)
    assert sorted(p.name for p in removed) == ["eldercare-20261021-023000.tar", "eldercare-20261026-023000.tar"]
    newest = tmp_path / "eldercare-20261129-023000.tar"
    assert sorted(tmp_path.iterdir()) == [newest, tmp_path / f"{newest.name}.sha256"]
    os.utime(newest, (time.time() - 90 * 86400,) * 2)
    assert backups.prune(tmp_path, keep_days=30) == []  # the newest survives however old


@pytest.mark.django_db(transaction=True)
def test_an_archive_with_paths_outside_its_folder_is_refused(demo_data):
    archive = backups.create_backup(demo_data / "backups")

    def escape(manifest, members):
        members["../../escaped.txt"] = b"x"

    rewrite(archive, escape)
    with pytest.raises(CommandError, match="不安全的条目 ../../escaped.txt"):
        call_command("restore_drill", str(archive), stdout=io.StringIO())
    assert scratch_databases() == []
