"""Permission matrix of every services page and admin (anonymous, out of scope, in scope)."""


from django.urls import reverse

from tests.factories import make_elder
from tests.matrix import AdminMatrix, PageMatrix, workbook_as_text
from tests.services.factories import (
    make_check,
    make_contract,
    make_item,
    make_pairing,
    make_provider,
    make_record,
    make_volunteer,
)


class TestCatalogue(PageMatrix):
    kind = "list"
    in_scope = ["village", "village2", "town", "county"]
    out_of_scope = ["other_town", "other_village", "clinic", "police"]

    def make(self, world):
        return make_item(world.town, name="上门理发服务")

    def url(self, obj):
        return reverse("services:catalogue")

    def marker(self, obj):
        return obj.name


class TestCataloguePrint(PageMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "clinic", "police"]

    def make(self, world):
        make_item(world.town, name="上门理发服务")
        return world.village

    def url(self, obj):
        return reverse("services:catalogue_print", args=[obj.code])

    def marker(self, obj):
        return "上门理发服务"


class TestPairings(PageMatrix):
    kind = "list"
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "clinic", "police"]

    def make(self, world):
        return make_pairing(make_volunteer(world.village), make_elder(world.village, name="蒋桂芝"))

    def url(self, obj):
        return reverse("services:pairings")

    def marker(self, obj):
        return "蒋桂芝"


class TestHours(PageMatrix):
    kind = "list"
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "clinic", "police"]

    def make(self, world):
        vol = make_volunteer(world.village, name="时间银行甲")
        make_record(make_elder(world.village), make_item(world.town), world.users["village"], volunteer=vol)
        return vol

    def url(self, obj):
        return reverse("services:hours")

    def marker(self, obj):
        return obj.name


class TestGroupEntry(PageMatrix):
    kind = "list"
    in_scope = ["village"]
    out_of_scope = ["village2", "other_town", "clinic", "police", "county"]

    def make(self, world):
        return make_elder(world.village, name="韩玉梅")

    def url(self, obj):
        return reverse("services:group_entry")

    def marker(self, obj):
        return obj.name


class TestGroupEntryForTown(PageMatrix):
    kind = "list"
    in_scope = ["town"]
    out_of_scope = ["other_town", "village2", "clinic"]

    def make(self, world):
        return make_elder(world.village, name="韩玉梅")

    def url(self, obj):
        return reverse("services:group_entry") + f"?village={obj.village_id}"

    def marker(self, obj):
        return obj.name


class TestClinicWorklist(PageMatrix):
    kind = "list"
    in_scope = ["clinic", "town", "county"]
    out_of_scope = ["village", "village2", "other_town", "police"]

    def make(self, world):
        return make_elder(world.village, name="曹德胜", age=70)

    def url(self, obj):
        return reverse("services:clinic_worklist")

    def marker(self, obj):
        return obj.name


class TestHealthCheckAdd(PageMatrix):
    in_scope = ["clinic"]
    out_of_scope = ["village", "town", "other_town", "police"]

    def make(self, world):
        return make_elder(world.village, name="曹德胜", age=70)

    def url(self, obj):
        return reverse("services:health_check_add", args=[obj.pk])

    def marker(self, obj):
        return obj.name


class TestHealthCheckExport(PageMatrix):
    kind = "list"
    in_scope = ["clinic", "town", "county"]
    out_of_scope = ["village", "village2", "other_town", "police"]

    def make(self, world):
        return make_check(make_elder(world.village, name="曹德胜", age=70), world.users["clinic"])

    def url(self, obj):
        return reverse("services:health_check_export")

    def marker(self, obj):
        return obj.elder.name

    def request(self, client, url):
        """Turn the workbook into text so the matrix can look for the marker."""
        return workbook_as_text(client.get(url))


class TestProviderAdmin(AdminMatrix):
    in_scope = ["village", "town"]
    out_of_scope = ["village2", "other_town", "other_village", "police"]

    def make(self, world):
        return make_provider(world.village, name="李家湾村老年协会")


class TestServiceItemAdmin(AdminMatrix):
    in_scope = ["town", "village"]
    out_of_scope = ["other_town", "other_village", "police"]

    def make(self, world):
        return make_item(world.town, name="上门理发服务")


class TestVolunteerAdmin(AdminMatrix):
    in_scope = ["village", "town"]
    out_of_scope = ["village2", "other_town", "clinic", "police"]

    def make(self, world):
        return make_volunteer(world.village, name="志愿者许明")


class TestPairingAdmin(AdminMatrix):
    in_scope = ["village", "town"]
    out_of_scope = ["village2", "other_town", "clinic", "police"]

    def make(self, world):
        return make_pairing(make_volunteer(world.village, name="志愿者许明"), make_elder(world.village, name="蒋桂芝"))

    def marker(self, obj):
        return "蒋桂芝"


class TestServiceRecordAdmin(AdminMatrix):
    in_scope = ["village", "town"]
    out_of_scope = ["village2", "other_town", "clinic", "police"]

    def make(self, world):
        return make_record(make_elder(world.village, name="蒋桂芝"), make_item(world.town), world.users["village"])

    def marker(self, obj):
        return "蒋桂芝"


class TestHealthCheckAdmin(AdminMatrix):
    in_scope = ["clinic", "town"]
    out_of_scope = ["village", "village2", "other_town", "police"]

    def make(self, world):
        return make_check(make_elder(world.village, name="曹德胜", age=70), world.users["clinic"])

    def marker(self, obj):
        return "曹德胜"


class TestFamilyDoctorContractAdmin(AdminMatrix):
    in_scope = ["clinic", "town", "village"]
    out_of_scope = ["village2", "other_town", "police"]

    def make(self, world):
        return make_contract(make_elder(world.village, name="曹德胜", age=70))

    def marker(self, obj):
        return "曹德胜"
