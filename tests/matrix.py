"""The permission matrix: declare a page once, get its access tests.

Every page of the project is exercised as anonymous, as a user out of scope and as users in
scope, with real objects. Subclass `PageMatrix` in tests/<app>/test_permissions.py:

    class TestElderProfile(PageMatrix):
        in_scope = ["village", "town"]          # must see the object (200 + its text)
        out_of_scope = ["village2", "police"]   # must get 404 (detail) or not see it (list)

        def make(self, world):                   # the object, in world.village
            return make_elder(world.village, name="王秀英")

        def url(self, obj):
            return reverse("registry:elder", args=[obj.pk])

        def marker(self, obj):                   # text that only appears when the object is shown
            return obj.name

`kind = "list"` for pages listing many rows: out-of-scope users get a page (or 404) that
does not contain the marker. `AdminMatrix` does the same for a model's admin pages
(changelist, change form, history, autocomplete).
"""

import importlib
import pkgutil
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

WHO = re.compile(r'<span class="who">.*?</span></span>', re.S)


def shown(response) -> str:
    """The response's text without the header's "who is signed in" line, which names the user's
    own area on every page, the Chinese 404 included."""
    return WHO.sub("", response.content.decode())


class PageMatrix:
    kind = "detail"  # or "list"
    in_scope: list = []
    out_of_scope: list = []
    method = "get"

    def make(self, world):
        raise NotImplementedError

    def url(self, obj):
        raise NotImplementedError

    def marker(self, obj) -> str:
        return str(obj)

    def request(self, client, url):
        return getattr(client, self.method)(url)

    def test_anonymous_is_sent_to_login(self, client, world):
        obj = self.make(world)
        response = self.request(client, self.url(obj))
        assert response.status_code == 302, response
        assert response["Location"].startswith(reverse(settings.LOGIN_URL))

    def test_out_of_scope_users_cannot_see_it(self, client, world):
        obj = self.make(world)
        assert self.out_of_scope, "declare who must not see this page"
        for username in self.out_of_scope:
            client.force_login(world.users[username])
            response = self.request(client, self.url(obj))
            if self.kind == "detail":
                assert response.status_code == 404, f"{username} got {response.status_code}, expected 404"
            else:
                assert response.status_code in (200, 404), f"{username} got {response.status_code}"
                assert self.marker(obj) not in shown(response), f"{username} sees {self.marker(obj)}"

    def test_in_scope_users_see_it(self, client, world):
        obj = self.make(world)
        assert self.in_scope, "declare who must see this page"
        for username in self.in_scope:
            client.force_login(world.users[username])
            response = self.request(client, self.url(obj))
            assert response.status_code == 200, f"{username} got {response.status_code}"
            assert self.marker(obj) in response.content.decode(), f"{username} does not see {self.marker(obj)}"


class AdminMatrix:
    """Access tests for one model's admin: changelist, change form, history and autocomplete."""

    in_scope: list = []
    out_of_scope: list = []
    # (app_label, model_name, field_name) of a FK that autocompletes this model, to test that too
    autocomplete = None

    def make(self, world):
        raise NotImplementedError

    def marker(self, obj) -> str:
        return str(obj)

    def admin_url(self, obj, view, *args):
        opts = obj._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)

    def test_anonymous_is_sent_to_admin_login(self, client, world):
        obj = self.make(world)
        for url in (self.admin_url(obj, "changelist"), self.admin_url(obj, "change", obj.pk)):
            response = client.get(url)
            assert response.status_code == 302 and "login" in response["Location"]

    def test_out_of_scope_users_get_404_and_empty_lists(self, client, world):
        obj = self.make(world)
        for username in self.out_of_scope:
            client.force_login(world.users[username])
            for view in ("change", "history"):
                response = client.get(self.admin_url(obj, view, obj.pk))
                assert response.status_code == 404, f"{username} {view}: {response.status_code}"
            for query in ("", f"?q={self.marker(obj)}"):
                response = client.get(self.admin_url(obj, "changelist") + query)
                assert response.status_code in (200, 404)
                # the search box echoes the query itself; only the results count
                content = shown(response).replace(f'value="{self.marker(obj)}"', "")
                assert self.marker(obj) not in content, f"{username} finds it ({query!r})"
            if self.autocomplete:
                response = client.get(reverse("admin:autocomplete"), {
                    "term": self.marker(obj), "app_label": self.autocomplete[0], "model_name": self.autocomplete[1],
                    "field_name": self.autocomplete[2]})
                assert self.marker(obj) not in shown(response), f"{username} autocompletes it"

    def test_in_scope_users_see_it(self, client, world):
        obj = self.make(world)
        for username in self.in_scope:
            client.force_login(world.users[username])
            response = client.get(self.admin_url(obj, "changelist"))
            assert response.status_code == 200, f"{username} changelist: {response.status_code}"
            assert self.marker(obj) in response.content.decode(), f"{username} does not see it in the changelist"
            response = client.get(self.admin_url(obj, "change", obj.pk))
            assert response.status_code == 200, f"{username} change form: {response.status_code}"


def matrices():
    """Every PageMatrix declared in the test modules (imported here so all are registered)."""
    import tests
    from tests.matrix import PageMatrix

    for info in pkgutil.walk_packages(tests.__path__, "tests."):
        if info.name.endswith("test_permissions"):
            importlib.import_module(info.name)
    found, todo = [], list(PageMatrix.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__name__.startswith("Test") and cls.method == "get":
            found.append(cls)
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


def role_pages(role, world):
    """(label, url) of every HTML page `role` may open: its menu, and each GET `PageMatrix` page
    that has the role in scope, with the object the matrix makes (in `world`). The accessibility
    check and the language check walk these."""
    from django.test import RequestFactory

    from eldercare.context_processors import _nav_items

    request = RequestFactory().get("/")
    request.user = world.users[role]
    urls = {item["url"]: str(item["label"]) for item in _nav_items(request)}
    for cls in matrices():
        if role not in cls.in_scope:
            continue
        matrix = cls()
        try:
            with transaction.atomic():
                url = matrix.url(matrix.make(world))
        except IntegrityError:  # another matrix already made the one object of this kind
            continue
        except AttributeError:  # a matrix whose objects come from pytest fixtures (census): its
            continue            # list page is in the menu and checked from there
        urls.setdefault(url, cls.__name__)
    client = Client()
    client.force_login(world.users[role])
    pages = [(label, url) for url, label in urls.items()  # downloads (workbooks, scans) are no pages
             if "text/html" in client.get(url).get("Content-Type", "")]
    return sorted(pages)


def workbook_as_text(response):
    """An .xlsx download turned into a plain response holding its cells' text, so the matrix can
    look for a marker in an export (other responses are returned as they are)."""
    from io import BytesIO

    from django.http import HttpResponse
    from openpyxl import load_workbook

    if response.status_code != 200 or not response["Content-Type"].startswith("application/vnd.openxml"):
        return response
    workbook = load_workbook(BytesIO(response.getvalue()))
    text = " ".join(str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row)
    return HttpResponse(text)
