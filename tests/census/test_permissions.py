"""Who sees which census import page: village2 never sees 李家湾村's imports or their files."""

import pytest
from django.urls import reverse

from tests.matrix import AdminMatrix, PageMatrix

pytestmark = pytest.mark.django_db

OUT = ["village2", "other_town", "other_village", "clinic", "police"]


class ImportPage(PageMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = OUT

    @pytest.fixture(autouse=True)
    def _factory(self, finished_import):
        self._make = finished_import

    def make(self, world):
        return self._make(user="village")

    def marker(self, obj):
        return obj.file_name


class TestImportDetail(ImportPage):
    def url(self, obj):
        return reverse("census:detail", args=[obj.pk])


class TestImportProgress(ImportPage):
    def url(self, obj):
        return reverse("census:progress", args=[obj.pk])

    def marker(self, obj):
        return '"status": "done"'


class TestRejectedDownload(ImportPage):
    def url(self, obj):
        return reverse("census:rejected", args=[obj.pk])

    def marker(self, obj):
        return ""

    def test_in_scope_users_see_it(self, client, world):
        job = self.make(world)
        for username in self.in_scope:
            client.force_login(world.users[username])
            response = client.get(self.url(job))
            assert response.status_code == 200, username
            assert b"".join(response.streaming_content)[:2] == b"PK"


class TestImportHistory(ImportPage):
    kind = "list"

    def url(self, obj):
        return reverse("census:imports")


class TestTemplate(PageMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["clinic", "police"]

    def make(self, world):
        return None

    def url(self, obj):
        return reverse("census:template")

    def marker(self, obj):
        return ""

    def test_in_scope_users_see_it(self, client, world):
        for username in self.in_scope:
            client.force_login(world.users[username])
            response = client.get(self.url(None))
            assert response.status_code == 200 and response.content[:2] == b"PK", username


class TestConfirmAndCancel:
    def test_out_of_scope_users_cannot_confirm_or_cancel(self, client, world, tmp_path):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from registry.census import services
        from tests.census.helpers import person, write_workbook

        path = write_workbook(tmp_path / "a.xlsx", [person("李家湾村", "王秀英")])
        job = services.store_upload(SimpleUploadedFile("a.xlsx", path.read_bytes()), acting_user=world.users["village"])
        services.run_preview(job.pk)
        for username in ["village2", "other_town", "clinic", "police", "county"]:
            client.force_login(world.users[username])
            for name in ("census:confirm", "census:cancel"):
                assert client.post(reverse(name, args=[job.pk])).status_code == 404, (username, name)
        job.refresh_from_db()
        assert job.status == "previewed"
        client.logout()
        response = client.post(reverse("census:confirm", args=[job.pk]))
        assert response.status_code == 302 and "login" in response["Location"]


class TestCensusImportAdmin(AdminMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "clinic", "police"]

    @pytest.fixture(autouse=True)
    def _factory(self, finished_import):
        self._make = finished_import

    def make(self, world):
        return self._make(user="village")

    def marker(self, obj):
        return obj.file_name
