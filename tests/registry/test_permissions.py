"""Permission matrix of every register page and admin: village2 never sees village's elders."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from tests.factories import make_elder, make_guardian
from tests.matrix import AdminMatrix, PageMatrix
from tests.registry.helpers import agreement, contact

pytestmark = pytest.mark.django_db

OUTSIDERS = ["village2", "other_town", "other_village", "police", "justice"]


def elder_in(world, **fields):
    fields.setdefault("name", "王秀英")
    return make_elder(world.village, phones=["13812345678"], **fields)


class TestElderList(PageMatrix):
    kind = "list"
    in_scope = ["village", "town", "county", "clinic"]
    out_of_scope = ["village2", "other_town", "other_village"]

    def make(self, world):
        return elder_in(world)

    def url(self, obj):
        return reverse("registry:elders")

    def marker(self, obj):
        return obj.name


class TestElderListSearch(TestElderList):
    """Searching by name, phone tail or the exact ID finds nothing out of scope."""

    def url(self, obj):
        return reverse("registry:elders") + "?q=" + obj.id_number

    def test_phone_tail_search_is_scoped(self, client, world):
        elder = self.make(world)
        client.force_login(world.users["village2"])
        assert elder.name not in client.get(reverse("registry:elders") + "?q=5678").content.decode()
        client.force_login(world.users["village"])
        assert elder.name in client.get(reverse("registry:elders") + "?q=5678").content.decode()


class TestDepartmentsHaveNoRegister(TestElderList):
    out_of_scope = ["police", "justice"]

    def test_out_of_scope_users_cannot_see_it(self, client, world):
        self.make(world)
        for username in self.out_of_scope:
            client.force_login(world.users[username])
            assert client.get(self.url(None)).status_code == 404


class TestElderProfile(PageMatrix):
    in_scope = ["village", "town", "county", "clinic"]
    out_of_scope = OUTSIDERS

    def make(self, world):
        return elder_in(world)

    def url(self, obj):
        return reverse("registry:elder", args=[obj.pk])

    def marker(self, obj):
        return obj.name


class ElderFormPage(PageMatrix):
    in_scope = ["village", "town"]
    out_of_scope = [*OUTSIDERS, "clinic", "county"]  # the county reads the register
    view = None

    def make(self, world):
        return elder_in(world)

    def url(self, obj):
        return reverse(f"registry:{self.view}", args=[obj.pk])

    def marker(self, obj):
        return obj.name


class TestElderEdit(ElderFormPage):
    view = "elder_edit"


class TestElderStatus(ElderFormPage):
    view = "elder_status"


class TestGuardianAdd(ElderFormPage):
    view = "guardian_add"


class TestContactAdd(ElderFormPage):
    view = "contact_add"


class TestDutyAdd(ElderFormPage):
    view = "duty_add"


class TestSupervisionAdd(ElderFormPage):
    view = "supervision_add"


class TestAgreementAdd(ElderFormPage):
    view = "agreement_add"


class TestElderAdd(PageMatrix):
    in_scope = ["village", "town"]
    out_of_scope = ["clinic", "police", "county"]

    def make(self, world):
        return None

    def url(self, obj):
        return reverse("registry:elder_add")

    def marker(self, obj):
        return "公民身份号码"


class TestAlerts(PageMatrix):
    kind = "list"
    in_scope = ["village", "town"]
    out_of_scope = ["village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        return elder_in(world, self_care="disabled", living="alone")

    def url(self, obj):
        return reverse("registry:alerts")

    def marker(self, obj):
        return obj.name


class TestAgreementDocument(PageMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = [*OUTSIDERS, "clinic"]

    def make(self, world):
        elder = elder_in(world)
        item = agreement(elder, None, None)
        item.document.save("scan.pdf", ContentFile(b"%PDF-1.4 secret agreement"))
        return item

    def url(self, obj):
        return reverse("registry:agreement_document", args=[obj.pk])

    def request(self, client, url):
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            response.content_text = b"".join(response.streaming_content)
        return response

    def test_in_scope_users_see_it(self, client, world):
        obj = self.make(world)
        for username in self.in_scope:
            client.force_login(world.users[username])
            response = self.request(client, self.url(obj))
            assert response.status_code == 200, username
            assert response.content_text == b"%PDF-1.4 secret agreement"


class RegistryAdminMatrix(AdminMatrix):
    """AdminMatrix whose search also probes by name, checking for the row's change link.

    (The admin echoes the search term in the search box, so the term itself cannot be the marker.)
    """

    def search_term(self, obj):
        return "王秀英"

    def test_search_does_not_find_it_out_of_scope(self, client, world):
        obj = self.make(world)
        link = self.admin_url(obj, "change", obj.pk)
        for username in self.out_of_scope:
            client.force_login(world.users[username])
            for query in ("", "?status=all", f"?q={self.search_term(obj)}", "?q=5678"):
                response = client.get(self.admin_url(obj, "changelist") + query)
                assert link not in response.content.decode(), f"{username} finds it ({query!r})"
        client.force_login(world.users[self.in_scope[0]])
        response = client.get(self.admin_url(obj, "changelist") + f"?q={self.search_term(obj)}")
        assert link in response.content.decode()

    def test_out_of_scope_users_get_404_and_empty_lists(self, client, world):
        obj = self.make(world)
        for username in self.out_of_scope:
            client.force_login(world.users[username])
            for view in ("change", "history"):
                response = client.get(self.admin_url(obj, view, obj.pk))
                assert response.status_code == 404, f"{username} {view}: {response.status_code}"
            response = client.get(self.admin_url(obj, "changelist"))
            assert self.marker(obj) not in response.content.decode()
            if self.autocomplete:
                from django.urls import reverse as rev

                response = client.get(rev("admin:autocomplete"), {
                    "term": self.search_term(obj), "app_label": self.autocomplete[0],
                    "model_name": self.autocomplete[1], "field_name": self.autocomplete[2]})
                assert self.marker(obj) not in response.content.decode(), f"{username} autocompletes it"


class TestElderAdmin(RegistryAdminMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village"]
    autocomplete = ("registry", "contactevent", "elder")

    def make(self, world):
        return elder_in(world)

    def marker(self, obj):
        return obj.name


class TestGuardianAdmin(RegistryAdminMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village"]
    autocomplete = ("registry", "elderguardian", "guardian")

    def make(self, world):
        return make_guardian(elder_in(world), name="王建国", phone="13912345678")

    def search_term(self, obj):
        return "王建国"


class TestContactEventAdmin(RegistryAdminMatrix):
    in_scope = ["village", "town"]
    out_of_scope = ["village2", "other_town"]

    def make(self, world):
        from django.utils import timezone

        return contact(elder_in(world), world.users["village"], timezone.localdate())

    def marker(self, obj):
        return obj.elder.name


class TestCareAgreementAdmin(RegistryAdminMatrix):
    in_scope = ["village", "town"]
    out_of_scope = ["village2", "other_town"]

    def make(self, world):
        return agreement(elder_in(world), None, None, caregiver_name="赵受托")

    def marker(self, obj):
        return obj.caregiver_name


def test_village2_cannot_export_or_count_village_elders(client, world):
    from io import BytesIO

    from openpyxl import load_workbook

    elder_in(world)
    client.force_login(world.users["village2"])
    response = client.get(reverse("admin:registry_elder_export"))
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.getvalue())).active.iter_rows(values_only=True))
    assert len(rows) == 1  # the header only
    assert "王秀英" not in client.get(reverse("admin:registry_elder_changelist") + "?status=all").content.decode()


class TestElderIdNumber(ElderFormPage):
    view = "elder_id_number"


class TestCareHomeAdmin(AdminMatrix):
    """A township care home: every account of its town reads it (village staff choose it on
    变更状态); the other town's accounts do not find it."""

    in_scope = ["village", "village2", "town", "county"]
    out_of_scope = ["other_town", "other_village", "police"]
    autocomplete = None

    def make(self, world):
        from registry.models import CareHome

        return CareHome.objects.create(name="锦屏镇敬老院", area=world.town)


class TestStatusChangeAdmin(RegistryAdminMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village"]

    def make(self, world):
        from django.utils import timezone

        from registry.services import change_status

        elder = elder_in(world)
        return change_status(elder, to_status="moved", changed_on=timezone.localdate(), reason="随子女迁往宁波",
                             acting_user=world.users["village"])

    def marker(self, obj):
        return obj.elder.name
