"""Backups that are proven by restoring them (docs/operations.md, "Backups").

A backup is one dated tar archive holding
  database.dump  – pg_dump's custom format,
  media/         – the private uploads (agreement scans, visit photos, census workbooks),
  manifest.json  – what the source held at the moment of the dump: each table's row count and
                   a digest of its rows, the history tables among them, each file's size and
                   SHA-256,
with a `sha256sum`-style checksum file beside it. The counts and the dump read one snapshot
(pg_export_snapshot → pg_dump --snapshot), so they describe exactly the same data while the
system keeps running.

The restore drill verifies the checksum, restores the dump into a scratch database on the same
server, unpacks the media into a scratch folder, and compares both with the manifest: a backup
counts once it has been restored.
"""

import hashlib
import json
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connections
from django.utils import timezone

from eldercare import pgtools

PREFIX = "eldercare-"
SUFFIX = ".tar"
# The same text for the same row on both sides, whatever the session defaults are.
STABLE_OUTPUT = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1"


class BackupError(Exception):
    """A backup or a drill that could not be made; the message says what to do."""


def _connect(dbname: str | None = None) -> psycopg.Connection:
    env = pgtools.libpq_env("default", dbname)
    return psycopg.connect(host=env.get("PGHOST"), port=env.get("PGPORT"), user=env.get("PGUSER"),
                           password=env.get("PGPASSWORD"), dbname=env["PGDATABASE"], autocommit=True)


def history_tables() -> set[str]:
    """The tables pghistory writes (one event table per tracked model)."""
    from pghistory.models import Event

    return {model._meta.db_table for model in apps.get_models() if issubclass(model, Event)}


def summarise(conn: psycopg.Connection) -> dict[str, dict]:
    """Each table of the public schema: its row count and an order-independent digest of its rows."""
    conn.execute(STABLE_OUTPUT)
    names = [row[0] for row in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname")]
    summary = {}
    for name in names:
        rows, digest = conn.execute(
            f'SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text FROM "{name}" t').fetchone()
        summary[name] = {"rows": rows, "digest": digest}
    return summary


def _media_files(root: Path) -> dict[str, dict]:
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []:
        files[path.relative_to(root).as_posix()] = {"size": path.stat().st_size, "sha256": _sha256(path)}
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def create_backup(output_dir: Path) -> Path:
    """Write one archive (and its .sha256) into output_dir; return the archive's path."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    media_root = Path(default_storage.location)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    archive = output_dir / f"{PREFIX}{stamp}{SUFFIX}"
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".partial-") as work:
        work = Path(work)
        with _connect() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            # pg_dump joins the snapshot while this transaction holds it open
            pgtools.run("pg_dump", ["--format=custom", f"--snapshot={snapshot}", "--file", str(work / "database.dump")])
            tables = summarise(conn)
            conn.execute("COMMIT")
        manifest = {
            "format": 1,
            "created_at": timezone.now().isoformat(),
            "database": connections["default"].settings_dict["NAME"],
            "server_version": connections["default"].pg_version,
            "tables": tables,
            "history_tables": sorted(history_tables() & set(tables)),
            "media": _media_files(media_root),
        }
        (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        partial = work / archive.name
        with tarfile.open(partial, "w") as tar:
            tar.add(work / "manifest.json", "manifest.json")
            tar.add(work / "database.dump", "database.dump")
            for name in manifest["media"]:
                tar.add(media_root / name, f"media/{name}")
        partial.chmod(0o600)  # every elder's record is in it
        checksum = f"{_sha256(partial)}  {archive.name}\n"
        partial.rename(archive)
    Path(f"{archive}.sha256").write_text(checksum)
    return archive


def prune(output_dir: Path, keep_days: int) -> list[Path]:
    """Delete this command's archives older than keep_days (never the newest one)."""
    archives = sorted(Path(output_dir).glob(f"{PREFIX}*{SUFFIX}"))
    cutoff = time.time() - keep_days * 86400
    removed = [path for path in archives[:-1] if path.stat().st_mtime < cutoff]
    for path in removed:
        path.unlink()
        Path(f"{path}.sha256").unlink(missing_ok=True)
    return removed


def latest(output_dir: Path) -> Path:
    """The newest archive in output_dir."""
    archives = sorted(Path(output_dir).glob(f"{PREFIX}*{SUFFIX}"))
    if not archives:
        raise BackupError(f"{output_dir} 中没有备份文件（{PREFIX}*{SUFFIX}）：先运行 backup。")
    return archives[-1]


@dataclass
class DrillReport:
    """What the drill restored and every difference it found (none: the backup is good)."""

    archive: Path
    scratch_database: str
    tables: int = 0
    rows: int = 0
    history_rows: int = 0
    media_files: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def restore_drill(archive: Path, *, keep: bool = False) -> DrillReport:
    """Restore `archive` into a scratch database and folder and compare them with its manifest."""
    started = time.monotonic()
    archive = Path(archive)
    checksum_file = Path(f"{archive}.sha256")
    if not checksum_file.exists():
        raise BackupError(f"缺少校验文件 {checksum_file.name}：无法证明备份文件完整。")
    expected = checksum_file.read_text().split()[0]
    if _sha256(archive) != expected:
        raise BackupError(f"{archive.name} 的 SHA-256 与 {checksum_file.name} 不符：文件已损坏或被改动，不能用于恢复。")
    source = connections["default"].settings_dict["NAME"]
    scratch = f"{source}_drill_{timezone.localtime():%Y%m%d%H%M%S}"[:63]
    report = DrillReport(archive=archive, scratch_database=scratch)
    with tempfile.TemporaryDirectory(prefix="eldercare-drill-") as work:
        work = Path(work)
        _unpack(archive, work)
        manifest = json.loads((work / "manifest.json").read_text())
        with _connect("postgres") as admin:
            admin.execute(f'CREATE DATABASE "{scratch}"')
        try:
            pgtools.run("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "--dbname", scratch,
                                       str(work / "database.dump")], dbname=scratch)
            with _connect(scratch) as conn:
                restored = summarise(conn)
            _compare_tables(manifest, restored, report)
            _compare_media(manifest, work / "media", report)
        finally:
            if not keep:
                with _connect("postgres") as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    report.seconds = time.monotonic() - started
    return report


def _unpack(archive: Path, into: Path) -> None:
    """Unpack an archive, refusing anything but plain files and folders inside `into`.

    By hand rather than with tarfile's "data" filter: Debian 12's Python (3.11.2) predates it.
    """
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            path = Path(member.name)
            if not (member.isfile() or member.isdir()) or path.is_absolute() or ".." in path.parts:
                raise BackupError(f"{archive.name} 中有不安全的条目 {member.name}：这不是 backup 生成的归档，拒绝解包。")
        tar.extractall(into, members=members)


def _compare_tables(manifest: dict, restored: dict, report: DrillReport) -> None:
    expected = manifest["tables"]
    for name in sorted(set(expected) - set(restored)):
        report.problems.append(f"表 {name} 没有恢复出来")
    for name in sorted(set(restored) - set(expected)):
        report.problems.append(f"恢复出备份时没有的表 {name}")
    for name in sorted(set(expected) & set(restored)):
        want, got = expected[name], restored[name]
        if want["rows"] != got["rows"]:
            report.problems.append(f"表 {name}：备份时 {want['rows']} 行，恢复后 {got['rows']} 行")
        elif want["digest"] != got["digest"]:
            report.problems.append(f"表 {name}：行数相同（{got['rows']}）但内容不同")
    report.tables = len(restored)
    report.rows = sum(table["rows"] for table in restored.values())
    report.history_rows = sum(restored[name]["rows"] for name in manifest["history_tables"] if name in restored)


def _compare_media(manifest: dict, media: Path, report: DrillReport) -> None:
    restored = _media_files(media)
    for name, want in manifest["media"].items():
        got = restored.get(name)
        if got is None:
            report.problems.append(f"文件 {name} 没有恢复出来")
        elif got != want:
            report.problems.append(f"文件 {name} 与备份时不同（{want['size']} → {got['size']} 字节）")
    for name in sorted(set(restored) - set(manifest["media"])):
        report.problems.append(f"恢复出清单中没有的文件 {name}")
    report.media_files = len(restored)


def format_report(report: DrillReport) -> str:
    """The drill's outcome as the operator reads it."""
    lines = [
        f"恢复演练 {report.archive.name}（临时数据库 {report.scratch_database}，用时 {report.seconds:.1f} 秒）",
        f"  数据表 {report.tables} 张，共 {report.rows} 行，其中修改历史 {report.history_rows} 行；文件 {report.media_files} 个",
    ]
    if report.ok:
        lines.append("  结果：与备份时完全一致，备份可用。")
    else:
        lines.append(f"  结果：发现 {len(report.problems)} 处不一致，这份备份不可信：")
        lines += [f"    - {problem}" for problem in report.problems]
    return "\n".join(lines)


def default_dir() -> Path:
    """Where backups go unless told otherwise (BACKUP_DIR)."""
    return Path(settings.BACKUP_DIR)

