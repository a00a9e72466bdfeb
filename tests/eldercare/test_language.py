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
