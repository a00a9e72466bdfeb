"""No English word on any page of any role under zh-hans (the pages half; the admin's is beside
the admin tests). The pages are every page each role may open (`tests.matrix.role_pages`)."""

import pytest

from tests.language import english_words
from tests.matrix import role_pages

pytestmark = pytest.mark.django_db

ROLES = ["village", "town", "county", "clinic", "police"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_is_all_chinese(role, world_with_work, client):
    client.force_login(world_with_work.users[role])
    pages = role_pages(role, world_with_work)
    assert len(pages) >= 3
    english = {}
    for label, url in pages:
        if url.startswith("/admin/"):
            continue  # the admin's half is with the admin tests
        # the standing users' names are their (ASCII) usernames: proper names here
        words = english_words(client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode(),
                              allowed=world_with_work.users)
        if words:
            english[f"{label} {url}"] = sorted(set(words))
    assert not english, english


@pytest.mark.django_db(databases=[])
def test_the_checker_finds_english_and_spares_code_and_proper_names():
    html = ('<p>Home 首页 <a href="/x/">History</a></p><script>var x = "Hello";</script>'
            '<p>导出(Excel) 13800001234 a1b2 file.xlsx</p>')
    assert english_words(html) == ["Home", "History"]


def admin_pages(client):
    """(label, url) of the admin pages the logged-in user may open: the index, each app, and for
    each model its changelist, add form, the change form and history of its first row."""
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse

    pages = [("index", reverse("admin:index"))]
    request = client.get(reverse("admin:index")).wsgi_request
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        name = f"admin:{opts.app_label}_{opts.model_name}"
        if not model_admin.has_module_permission(request) or not model_admin.has_view_permission(request):
            continue
        pages.append((opts.app_label, reverse("admin:app_list", args=[opts.app_label])))
        pages.append((f"{opts.label} changelist", reverse(f"{name}_changelist")))
        if model_admin.has_add_permission(request):
            pages.append((f"{opts.label} add", reverse(f"{name}_add")))
        first = model_admin.get_queryset(request).first()
        if first is not None:
            for view in ("change", "history"):
                try:
                    pages.append((f"{opts.label} {view}", reverse(f"{name}_{view}", args=[first.pk])))
                except NoReverseMatch:
                    pass
    return list(dict.fromkeys(pages))


@pytest.mark.parametrize("role", ["town", "county", "village", "clinic"])
def test_every_admin_page_of_the_role_is_all_chinese(role, world_with_work, client):
    from django.utils import timezone

    from registry.models import Elder
    from tests.registry.helpers import agreement, contact
    from tests.services.factories import make_check, make_contract, make_item, make_provider

    elder = Elder.objects.get(name="王秀英")
    contact(elder, world_with_work.users["village"], timezone.localdate())
    agreement(elder, None, None, caregiver_name="赵受托")
    make_provider(world_with_work.town)
    make_item(world_with_work.town)
    make_check(elder, world_with_work.users["clinic"])
    make_contract(elder)
    client.force_login(world_with_work.users[role])
    pages = admin_pages(client)
    assert len(pages) >= 10
    english = {}
    for label, url in pages:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, (label, url, response.status_code)
        words = english_words(response.content.decode(), allowed=world_with_work.users)
        if words:
            english[f"{label} {url}"] = sorted(set(words))
    assert not english, english
