"""One time zone for people: every date and time shown, printed or exported is Beijing time.

The database keeps moments in UTC. Between 00:00 and 08:00 Beijing time the UTC date is the day
before, so a label written from the UTC moment (a case drafted from a visit at 03:00 says the
previous day) shows up here. The sweep records a day's work at 00:30 and at 23:30 Beijing time,
then reads every page and export that shows it and looks for the wrong day.
"""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from openpyxl import load_workbook

from eldercare.audit import record_access
from eldercare.choices import AccessEventKind
from eldercare.idnumbers import parse_id_number
from eldercare.models import User
from eldercare.spreadsheets import plain_text
from registry.census.models import CensusImport
from relief import services as relief_services
from relief.choices import ReliefCaseStatus
from relief.models import CaseEvent, RiskAssessment
from tests.eldercare.test_url_walk import walk
from tests.factories import make_elder, make_id_number
from tests.relief.factories import make_case
from tests.visits.factories import make_visit

BEIJING = ZoneInfo("Asia/Shanghai")
# Travelling to a moment given in ZoneInfo("UTC") also sets the process's own time zone to UTC,
# as on a server: code reading the process clock (date.today()) then gets the UTC day too.
UTC = ZoneInfo("UTC")
DAY = dt.date(2026, 3, 18)
# (the moment, the day a label read from the UTC moment would say). At 23:30 the UTC day is
# Beijing's: that sweep checks that the pages name the 18th (a day shifted twice would not),
# not the absence of the 19th, which deadlines "within 24 hours" rightly show.
MOMENTS = {
    "00:30": (dt.datetime(2026, 3, 18, 0, 30, tzinfo=BEIJING).astimezone(UTC), DAY - dt.timedelta(days=1)),
    "23:30": (dt.datetime(2026, 3, 18, 23, 30, tzinfo=BEIJING).astimezone(UTC), None),
}
# No-argument pages that are not pages (or change state on GET).
SKIPPED = {"logout", "set_language", "health", "login", "census:template"}


def spellings(day: dt.date) -> list[str]:
    """The ways a day is written in this project's pages and files."""
    return [f"{day:%Y-%m-%d}", f"{day.year}年{day.month}月{day.day}日", f"{day.month}月{day.day}日",
            f"{day:%Y%m%d}"]


def text_of(response) -> str:
    """What a person sees in the response: the page, or every cell of an .xlsx export."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        book = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(plain_text(cell) for sheet in book for row in sheet.iter_rows(values_only=True)
                         for cell in row)
    return content.decode()


@pytest.fixture(params=sorted(MOMENTS))
def night(request, world):
    """A day's work — visit, case from it with steps, assessment, export record, census import —
    all done at one moment near midnight Beijing time; the clock stays there."""
    moment, wrong = MOMENTS[request.param]
    with time_machine.travel(moment, tick=False):
        village, town = world.users["village"], world.users["town"]
        elder = make_elder(world.village, name="王秀英", age=82, phones=["13912345678"], responsible_worker=village)
        visit = make_visit(elder, village)
        case = make_case(world, status=ReliefCaseStatus.REFERRED, elder=elder)
        assessment = relief_services.confirm_assessment(elder, level="high",
                                                        adjusted_reason="核对", acting_user=village)
        event = record_access(user=town, kind=AccessEventKind.EXPORT, area_code=world.town.code,
                              detail={"what": "relief.cases", "rows": 1})
        census = CensusImport.objects.create(uploaded_by=town, area_code=world.town.code, file_name="调查表.xlsx",
                                             file_size=1, status="done")
        yield world, {"elder": elder, "visit": visit, "case": case, "assessment": assessment, "event": event,
                      "census": census}, wrong


def pages(objects):
    """(user, url) of every page and export that shows the night's records."""
    no_argument = [name for _route, name, _view in walk_urls() if name and name not in SKIPPED]
    for username in ("village", "town", "county", "police"):
        for name in no_argument:
            try:
                yield username, reverse(name)
            except NoReverseMatch:
                continue
    elder, visit, case = objects["elder"], objects["visit"], objects["case"]
    yield from (("village", url) for url in (
        reverse("registry:elder", args=[elder.pk]), reverse("visits:elder_visits", args=[elder.pk]),
        reverse("visits:visit", args=[visit.pk]), reverse("relief:case_from_visit", args=[visit.pk]),
        reverse("relief:case_detail", args=[case.pk]), reverse("relief:assess", args=[elder.pk])))
    yield from (("town", url) for url in (
        reverse("relief:case_detail", args=[case.pk]), reverse("census:detail", args=[objects["census"].pk])))
    for model in (type(objects["event"]), CensusImport, type(case), RiskAssessment, type(visit)):
        changelist = f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        yield from ((username, reverse(changelist)) for username in ("town", "county", "admin"))


def walk_urls():
    from django.urls import get_resolver

    return walk(get_resolver().url_patterns)


def test_no_page_or_export_shows_the_utc_day(night, client):
    world, objects, wrong = night
    world.users["admin"] = User.objects.create_superuser("admin", password=None)
    read = {}
    for username, url in pages(objects):
        client.force_login(world.users[username])
        response = client.get(url)
        if response.status_code != 200:
            continue  # not this role's page (its access is tested elsewhere)
        read[(username, url)] = text_of(response)
    assert len(read) > 40  # the sweep did read the pages
    shown_wrong = {key: day for key, text in read.items() for day in (spellings(wrong) if wrong else ())
                   if day in text}
    assert shown_wrong == {}
    # The night's records are on the pages that name their day, with Beijing's day.
    visit, case = objects["visit"], objects["case"]
    draft = read[("village", reverse("relief:case_from_visit", args=[visit.pk]))]
    assert f"巡访日期：{DAY:%Y-%m-%d}" in draft and f"来自 {DAY:%Y-%m-%d} 的巡访" in draft
    assert any(day in read[("town", reverse("relief:case_detail", args=[case.pk]))] for day in spellings(DAY))
    for model in (type(objects["event"]), CensusImport, RiskAssessment):
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert any(day in read[("admin", changelist)] for day in spellings(DAY)), model


def test_labels_of_records_name_the_beijing_day(night):
    _world, objects, wrong = night
    steps = list(CaseEvent.objects.filter(case=objects["case"]))
    labels = [str(objects[key]) for key in ("visit", "case", "assessment", "event", "census")]
    labels += [str(step) for step in steps]
    assert len(steps) >= 3
    assert all(f"{DAY:%Y-%m-%d}" in label for label in labels), labels
    assert not wrong or not any(f"{wrong:%Y-%m-%d}" in label for label in labels)


def test_exported_moments_are_written_in_beijing_time():
    moment = dt.datetime(2026, 3, 17, 16, 30, tzinfo=dt.UTC)  # 00:30 on the 18th in Beijing
    assert plain_text(moment) == "2026-03-18 00:30:00"
    assert plain_text(dt.datetime(2026, 3, 17, 16, 0, tzinfo=dt.UTC)) == "2026-03-18"  # local midnight: the day


def test_a_baby_born_today_in_beijing_is_not_born_tomorrow():
    """Checking ID numbers asks for today in Beijing: at 00:30 a birth date of today is valid."""
    with time_machine.travel(MOMENTS["00:30"][0], tick=False):
        assert parse_id_number(make_id_number(DAY)).birth_date == DAY


def test_every_admin_used_above_exists():
    registered = {model._meta.label for model in admin.site._registry}
    assert {"eldercare.AccessEvent", "registry.CensusImport", "relief.RiskAssessment"} <= registered
