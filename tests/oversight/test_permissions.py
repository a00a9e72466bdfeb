"""Permission matrix of every oversight page and export (anonymous, out of scope, in scope).

Declared here, in a `test_permissions` module, so the language and accessibility walks
(tests/matrix.py `role_pages`) visit these pages too.
"""

from datetime import date

from django.urls import reverse

from oversight import services
from oversight.models import ScorecardVersion
from oversight.periods import QUARTER, Period
from oversight.scorecard import DEFAULT_WEIGHTS
from relief.choices import ReliefCaseStatus
from tests.factories import make_elder
from tests.matrix import PageMatrix, workbook_as_text
from tests.relief.factories import make_case
from tests.services.factories import make_item, make_pairing, make_record, make_volunteer


def _draft(world, **kwargs):
    from django.utils import timezone

    return services.draft_circular(world.town, Period(QUARTER, timezone.localdate()),
                                   acting_user=world.users["town"], **kwargs)


class TestTownDashboard(PageMatrix):
    """The town's dashboard lists its villages; another town's officer, village, clinic and
    department staff cannot open it (village staff get their figures on the home page)."""

    in_scope = ["town", "county"]
    out_of_scope = ["other_town", "village", "clinic", "police"]

    def make(self, world):
        return world.town

    def url(self, obj):
        return f"{reverse('oversight:dashboard')}?area={obj.code}"

    def marker(self, obj):
        return "李家湾村"


class TestCountyDashboard(PageMatrix):
    in_scope = ["county"]
    out_of_scope = ["town", "other_town", "village", "clinic", "police"]

    def make(self, world):
        return world.county

    def url(self, obj):
        return f"{reverse('oversight:dashboard')}?area={obj.code}"

    def marker(self, obj):
        return "新市镇"


class TestDrillDown(PageMatrix):
    """The elders behind a figure: out of scope, the area is a 404."""

    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        make_elder(world.village, name="钟秀兰", age=85, dibao=True)
        return world.village

    def url(self, obj):
        return f"{reverse('oversight:rows', args=['key_target'])}?area={obj.code}"

    def marker(self, obj):
        return "钟秀兰"


class TestCircularPage(PageMatrix):
    in_scope = ["town", "county"]
    out_of_scope = ["other_town", "village2", "clinic", "police"]

    def make(self, world):
        return _draft(world, text="特此通报。")

    def url(self, obj):
        return reverse("oversight:circular", args=[obj.pk])

    def marker(self, obj):
        return obj.title


class TestCircularList(PageMatrix):
    kind = "list"
    in_scope = ["town", "county"]
    out_of_scope = ["other_town", "village", "other_village", "clinic", "police"]

    def make(self, world):
        return _draft(world)

    def url(self, obj):
        return reverse("oversight:circulars")

    def marker(self, obj):
        return obj.title


class _ExportMatrix(PageMatrix):
    kind = "list"

    def request(self, client, url):
        return workbook_as_text(client.get(url))


class TestDrillDownExport(_ExportMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        return make_elder(world.village, name="钟秀兰", age=85, dibao=True)

    def url(self, obj):
        return f"{reverse('oversight:rows_export', args=['key_target'])}?area={obj.village_id}"

    def marker(self, obj):
        return obj.name


class TestTableExport(_ExportMatrix):
    in_scope = ["town", "county"]
    out_of_scope = ["other_town", "village", "clinic", "police"]

    def make(self, world):
        # Not the village account's own village, whose name its 404 page shows in the header.
        return world.village2

    def url(self, obj):
        return f"{reverse('oversight:table_export')}?area={obj.parent_id}"

    def marker(self, obj):
        return obj.name


class TestCaseExport(_ExportMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        return make_case(world, elder=make_elder(world.village, name="樊桂英"))

    def url(self, obj):
        return f"{reverse('relief:case_export')}?status=all"

    def marker(self, obj):
        return "樊桂英"


class TestReferralExport(_ExportMatrix):
    in_scope = ["police"]
    out_of_scope = ["justice", "village", "town", "clinic", "other_town"]

    def make(self, world):
        return make_case(world, status=ReliefCaseStatus.REFERRED, elder=make_elder(world.village, name="樊桂英"))

    def url(self, obj):
        return reverse("relief:referral_export")

    def marker(self, obj):
        return "樊桂英"


class TestPairingsExport(_ExportMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "clinic", "police"]

    def make(self, world):
        return make_pairing(make_volunteer(world.village), make_elder(world.village, name="蒋桂芝"))

    def url(self, obj):
        return reverse("services:pairings_export")

    def marker(self, obj):
        return "蒋桂芝"


class TestHoursExport(_ExportMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "clinic", "police"]

    def make(self, world):
        volunteer = make_volunteer(world.village, name="时间银行甲")
        make_record(make_elder(world.village), make_item(world.town), world.users["village"], volunteer=volunteer)
        return volunteer

    def url(self, obj):
        return reverse("services:hours_export")

    def marker(self, obj):
        return obj.name


class TestReportPage(PageMatrix):
    in_scope = ["town", "county"]
    out_of_scope = ["other_town", "village", "clinic", "police"]

    def make(self, world):
        return make_elder(world.village, name="唐玉珍", age=88)

    def url(self, obj):
        return f"{reverse('oversight:report')}?area={obj.village.parent_id}"

    def marker(self, obj):
        return "李家湾村"


class TestTownScorecard(PageMatrix):
    in_scope = ["town", "county"]
    out_of_scope = ["other_town", "village", "clinic", "police"]

    def make(self, world):
        return world.town

    def url(self, obj):
        return f"{reverse('oversight:scorecard')}?area={obj.code}"

    def marker(self, obj):
        return "青龙村"


class TestVillageScorecard(PageMatrix):
    in_scope = ["village", "town", "county"]
    out_of_scope = ["village2", "other_town", "other_village", "clinic", "police"]

    def make(self, world):
        return world.village

    def url(self, obj):
        return reverse("oversight:scorecard_area", args=[obj.code])

    def marker(self, obj):
        return "李家湾村 · 督导评分"


class TestVersions(PageMatrix):
    kind = "list"
    in_scope = ["town", "county"]
    out_of_scope = ["village", "clinic", "police"]

    def make(self, world):
        return ScorecardVersion.objects.create(valid_from=date(2027, 1, 1), name="二〇二七年版", weights=DEFAULT_WEIGHTS)

    def url(self, obj):
        return reverse("oversight:scorecard_versions")

    def marker(self, obj):
        return obj.name
