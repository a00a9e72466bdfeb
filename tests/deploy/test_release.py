"""The installable release: the wheel that `python -m build` makes carries every app, template,
static file, message catalogue and migration, and an installed copy — in a fresh virtualenv,
run from outside the checkout — migrates, passes `check --deploy` with production settings and
answers through gunicorn.

The database is a scratch database on the server the test run uses (the machine's PostgreSQL
when DATABASE_URL is set, the project's embedded one in CI)."""

import os
import re
import secrets
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from eldercare.pgtools import database_url
from tests.deploy.helpers import BASE_PYTHON, REPO, free_port, plain_env, scratch_database, wait_for_http

pytestmark = pytest.mark.slow

APPS = ["eldercare", "registry", "visits", "relief", "services", "oversight"]


def files_under(folder: Path):
    """Every file of a folder, relative to the checkout (symlinked folders are not followed)."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = [name for name in dirs if name != "__pycache__"]
        yield from (str(Path(root, name).relative_to(REPO)) for name in names)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    leftover = not (REPO / "build").exists()  # setuptools' work folder, removed unless it was there before
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(out), str(REPO)],
                   check=True, capture_output=True, cwd=REPO)
    if leftover:
        shutil.rmtree(REPO / "build", ignore_errors=True)
    (path,) = out.glob("eldercare-*.whl")
    return path


def test_the_wheel_carries_every_app_template_static_file_catalogue_and_migration(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"eldercare/{name}" for folder in ("templates", "static", "locale") for name in files_under(REPO / folder)}
    expected |= {name for app in APPS for name in files_under(REPO / app)}
    assert {"eldercare/locale/zh_Hans/LC_MESSAGES/django.mo", "eldercare/templates/base.html",
            "eldercare/static/eldercare/site.css", "registry/migrations/0001_initial.py"} <= expected
    assert sorted(expected - names) == []
    assert not [name for name in names if name.startswith(("tests/", "bench/"))]
    entry_points = zipfile.ZipFile(wheel).read("eldercare-0.1.0.dist-info/entry_points.txt").decode()
    assert "eldercare-admin = eldercare.__main__:main" in entry_points


@pytest.mark.django_db
def test_an_installed_copy_migrates_passes_check_deploy_and_serves_through_gunicorn(wheel, tmp_path):
    venv, site = tmp_path / "venv", tmp_path / "site"  # outside the checkout
    site.mkdir()
    subprocess.run([BASE_PYTHON, "-m", "venv", str(venv)], check=True)
    subprocess.run([venv / "bin" / "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    with scratch_database("release") as dbname:
        # the production settings in a settings file, as /etc/eldercare/eldercare.env holds them
        settings_file = site / "eldercare.env"
        settings_file.write_text("\n".join(f"{key}={value}" for key, value in {
            "DATABASE_URL": database_url(dbname=dbname), "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "eldercare.example.gov.cn", "STATIC_ROOT": site / "static",
            "PRIVATE_MEDIA_ROOT": site / "private"}.items()))
        env = plain_env(HOME=site, ELDERCARE_ENV_FILE=settings_file)
        admin = venv / "bin" / "eldercare-admin"

        def run(*args):
            return subprocess.run([admin, *args], env=env, cwd=site, capture_output=True, text=True, check=True)

        located = subprocess.run([venv / "bin" / "python", "-c", "import eldercare; print(eldercare.__file__)"],
                                 env=env, cwd=site, capture_output=True, text=True, check=True).stdout
        assert located.startswith(str(venv))
        run("migrate", "--no-input", "-v0")
        assert "No migrations to apply" in run("migrate", "--no-input").stdout
        checked = run("check", "--deploy", "--fail-level", "WARNING")
        assert "System check identified no issues" in checked.stdout + checked.stderr
        run("collectstatic", "--no-input", "-v0")
        assert (site / "static" / "staticfiles.json").exists()

        port = free_port()
        gunicorn = subprocess.Popen([venv / "bin" / "gunicorn", "eldercare.wsgi", "--bind", f"127.0.0.1:{port}",
                                     "--workers", "1"], env=env, cwd=site, stdout=subprocess.DEVNULL,
                                    stderr=open(tmp_path / "gunicorn.log", "w"))
        try:
            headers = {"Host": "eldercare.example.gov.cn", "X-Forwarded-Proto": "https"}
            status, _, body = wait_for_http(f"http://127.0.0.1:{port}/login/", headers, process=gunicorn)
            page = body.decode()
            assert status == 200, (tmp_path / "gunicorn.log").read_text()
            assert 'lang="zh-hans"' in page and "登录" in page  # the Chinese catalogue and the templates
            stylesheet = re.search(r'href="(/static/eldercare/site\.[0-9a-f]{12}\.css)"', page).group(1)
            status, response_headers, css = wait_for_http(f"http://127.0.0.1:{port}{stylesheet}", headers)
            assert status == 200 and css == (REPO / "static" / "eldercare" / "site.css").read_bytes()
            assert "max-age=315360000" in response_headers["Cache-Control"]  # whitenoise's immutable files
        finally:
            gunicorn.terminate()
            gunicorn.wait(10)
