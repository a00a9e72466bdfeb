"""Issue 14, headers: no-store on every page with personal data, and a CSP without inline script
that every page (the admin's too) lives with."""

import re
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.factories import make_elder
from tests.matrix import matrices

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def assert_private_and_csp(response, where):
    cache = response.get("Cache-Control", "")
    assert "no-store" in cache and "private" in cache, f"{where}: Cache-Control {cache!r}"
    policy = response.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0], where
    assert "worker-src 'self'" in policy and "frame-ancestors 'none'" in policy, where


@pytest.mark.django_db
def test_every_matrix_page_is_no_store_with_the_policy(client, world):
    checked = 0
    for cls in matrices():
        matrix = cls()
        try:
            with transaction.atomic():
                obj = matrix.make(world)
        except (IntegrityError, AttributeError, TypeError):
            continue  # one-per-kind objects already made, or objects from fixtures
        url = matrix.url(obj)
        for username in matrix.in_scope[:1]:
            client.force_login(world.users[username])
            response = client.get(url)
            assert_private_and_csp(response, f"{cls.__name__} {url}")
            if "text/html" in response.get("Content-Type", ""):
                html = response.content.decode()
                assert not INLINE_SCRIPT.search(html), f"{url}: {INLINE_SCRIPT.search(html).group(0)}"
                assert not INLINE_HANDLER.search(html), f"{url}: {INLINE_HANDLER.search(html).group(0)}"
            checked += 1
    assert checked >= 20


@pytest.mark.django_db
def test_exports_and_out_of_scope_404s_are_no_store_too(client, world):
    elder = make_elder(world.village2)
    client.force_login(world.users["village"])
    assert_private_and_csp(client.get(reverse("admin:registry_elder_export")), "ledger export")
    response = client.get(reverse("registry:elder", args=[elder.pk]))
    assert response.status_code == 404
    assert_private_and_csp(response, "404")


@pytest.mark.django_db
def test_admin_pages_run_under_the_policy(client, world):
    elder = make_elder(world.village)
    client.force_login(world.users["town"])
    for url in (reverse("admin:index"), reverse("admin:registry_elder_changelist"),
                reverse("admin:registry_elder_change", args=[elder.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_private_and_csp(response, url)
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), f"{url}: {INLINE_SCRIPT.search(html).group(0)}"
        assert not INLINE_HANDLER.search(html), f"{url}: {INLINE_HANDLER.search(html).group(0)}"


@pytest.mark.django_db
def test_the_login_page_has_the_policy_and_may_be_cached_by_nobody_but_is_not_personal(client):
    response = client.get(reverse("login"))
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_no_template_has_inline_script_or_handlers():
    found = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)[:60]}" for m in pattern.finditer(text)]
    assert not found, found
