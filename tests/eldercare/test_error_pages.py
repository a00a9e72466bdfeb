"""Issue 14: the error pages are Chinese, keep the layout and leak nothing; /health/ says 503
when the database is down."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.views.defaults import server_error

from tests.factories import make_elder

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_404_is_chinese_in_the_layout_and_names_nothing(client, world):
    elder = make_elder(world.village2, name="外村秘密老人")
    client.force_login(world.users["village"])
    url = reverse("registry:elder", args=[elder.pk])
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in page and 'class="mainnav"' in page and "site.css" in page
    for leak in ("外村秘密老人", url, "Elder", "matching query", "Traceback", f"elders/{elder.pk}"):
        assert leak not in page, leak


@pytest.mark.django_db
def test_404_for_anonymous_keeps_the_layout(client):
    response = client.get("/no-such-page/?q=<script>alert(1)</script>")
    page = response.content.decode()
    assert response.status_code == 404 and "页面不存在" in page and "no-such-page" not in page
    assert "<script>alert" not in page


@pytest.mark.django_db
def test_403_is_chinese_and_hides_the_reason(client, world, settings):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = Client().get("/").wsgi_request
    request.user = world.users["village"]
    response = permission_denied(request, PermissionDenied("secret reason 王秀英"))
    page = response.content.decode()
    assert response.status_code == 403 and "不能进行此操作" in page
    assert "secret reason" not in page and "王秀英" not in page


@pytest.mark.django_db
def test_csrf_failure_is_chinese_and_hides_the_reason(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["village"])
    response = client.post(reverse("registry:elder_add"), {"name": "刘桂兰"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期" in page and 'class="mainnav"' in page
    for leak in ("CSRF", "csrf token", "Referer", "cookie not set", "刘桂兰"):
        assert leak not in page, leak


def test_500_renders_in_the_layout_without_touching_the_database(django_assert_num_queries, db):
    request = Client().get("/").wsgi_request
    with django_assert_num_queries(0):
        response = server_error(request)
    page = response.content.decode()
    assert response.status_code == 500 and "系统出错" in page and "site.css" in page


def test_error_pages_are_configured():
    assert settings.CSRF_FAILURE_VIEW == "eldercare.views.csrf_failure"


@pytest.mark.django_db
def test_health_answers_200_json_with_the_database(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Content-Type"] == "application/json"


DATABASE_DOWN = """
import django, json
from django.conf import settings
# production settings, but static files without the manifest collectstatic writes
settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
health = client.get("/health/")
client.cookies["sessionid"] = "abcdefghijklmnopqrstuvwxyz123456"  # a page that must read the session
page = client.get("/registry/elders/")
print(json.dumps({"health": [health.status_code, health["Content-Type"], health.content.decode()],
                  "page": [page.status_code, page.content.decode()]}))
"""


def test_health_answers_503_and_pages_a_chinese_500_when_the_database_is_down():
    """A real process whose DATABASE_URL points at a closed port."""
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:9/nowhere", "DEBUG": "0",
           "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "testserver", "SECURE_SSL_REDIRECT": "0",
           "DJANGO_SETTINGS_MODULE": "eldercare.settings", "DB_CONN_MAX_AGE": "0", "LOG_LEVEL": "CRITICAL"}
    out = subprocess.run([sys.executable, "-c", DATABASE_DOWN], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    status, content_type, body = result["health"]
    assert status == 503 and content_type == "application/json"
    assert json.loads(body) == {"status": "error", "database": "unavailable"}
    status, page = result["page"]
    assert status == 500 and "系统出错" in page
    assert "nowhere" not in page and "psycopg" not in page and "OperationalError" not in page
