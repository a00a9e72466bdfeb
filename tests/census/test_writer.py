"""The census import against the register: each row's exact outcome, with the writer run both in
line and with its threads ahead (transactional: the threads read committed data only)."""

from datetime import date

import pytest
from openpyxl import load_workbook
from pghistory.models import Events

from eldercare.audit import history_of
from registry.census.services import execute
from registry.models import ID_REGISTERED_ELSEWHERE, CareAgreement, Elder, ElderGuardian, Guardian
from tests.census.helpers import HEADER, person, write_workbook
from tests.factories import make_elder, make_guardian, make_id_number

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("parallel")]


def run(tmp_path, world, rows, user="town", name="survey.xlsx", **kwargs):
    path = write_workbook(tmp_path / name, rows, **{k: kwargs.pop(k) for k in ("header", "title_rows") if k in kwargs})
    return execute(str(path), filename=name, user=world.users[user], **kwargs)


def reasons(outcome):
    return {entry["row"]: [issue["message"] for issue in entry["issues"]] for entry in outcome.rejected_rows}


def test_new_rows_are_registered_with_derived_fields_and_guardians(tmp_path, world):
    number = make_id_number(date(1946, 3, 12), male=False)
    outcome = run(tmp_path, world, [
        person("李家湾村委会", "王秀英", number, phone="13800001111", living="独居", guardian="张建华", relation="儿子",
               guardian_phone="13900002222", agreement="是", caregiver="李四"),
    ])
    assert outcome.counts() == {"new": 1, "updated": 0, "unchanged": 0, "rejected": 0, "warnings": 0, "rows": 1}
    elder = Elder.objects.get(id_number=number)
    assert (elder.village_id, elder.name, elder.sex, elder.birth_date) == ("511529100201", "王秀英", "female",
                                                                          date(1946, 3, 12))
    assert elder.name_initials == "wxy" and elder.phones == ["13800001111"] and elder.living == "alone"
    link = ElderGuardian.objects.get(elder=elder)
    assert (link.guardian.name, link.guardian.phone, link.relation, link.is_primary) == (
        "张建华", "13900002222", "son", True)
    assert CareAgreement.objects.get(elder=elder).caregiver_name == "李四"


def test_an_id_registered_out_of_scope_is_refused_without_saying_where(tmp_path, world):
    other = make_elder(world.other_village, name="外镇老人")
    outcome = run(tmp_path, world, [person("李家湾村", "王秀英", other.id_number)])
    assert outcome.rejected == 1 and outcome.new == 0
    assert reasons(outcome) == {3: [str(ID_REGISTERED_ELSEWHERE)]}
    assert Elder.objects.get(pk=other.pk).village_id == world.other_village.code


def test_village_staff_cannot_import_into_the_neighbouring_village(tmp_path, world):
    outcome = run(tmp_path, world, [person("青龙村", "王秀英"), person("李家湾村", "李桂兰")], user="village")
    assert (outcome.new, outcome.rejected) == (1, 1)
    assert "不在您的辖区内" in reasons(outcome)[3][0]
    assert not Elder.objects.filter(name="王秀英").exists()


def test_village_elsewhere_and_town_mismatch_are_rejected(tmp_path, world):
    outcome = run(tmp_path, world, [
        person("石板村", "甲"),
        person("李家湾村", "乙", town="新市镇"),
        person("李家湾村", "丙", town="锦屏镇"),
        person("511529100202", "丁"),
    ])
    found = reasons(outcome)
    assert "不在您的辖区内" in found[3][0]
    assert "该村属于锦屏镇" in found[4][0]
    assert (outcome.new, outcome.rejected) == (2, 2)
    assert Elder.objects.get(name="丁").village_id == "511529100202"


def test_in_scope_update_changes_only_filled_cells_and_records_history(tmp_path, world):
    elder = make_elder(world.village, name="王秀英", phones=["13800001111"], address="三组12号", living="alone")
    outcome = run(tmp_path, world, [person("李家湾村", "王秀英", elder.id_number, living="与配偶同住")])
    assert (outcome.updated, outcome.new, outcome.unchanged) == (1, 0, 0)
    elder.refresh_from_db()
    assert elder.living == "spouse" and elder.address == "三组12号" and elder.phones == ["13800001111"]
    event = history_of(elder).first()
    assert event.pgh_label == "update"
    assert event.pgh_context["username"] == "town" and event.pgh_context["source"] == "census_import"


def test_guardian_already_linked_is_updated_not_duplicated(tmp_path, world):
    elder = make_elder(world.village, name="王秀英")
    guardian = make_guardian(elder, name="张建华", phone="13800001234")
    outcome = run(tmp_path, world, [person("李家湾村", "王秀英", elder.id_number, guardian="张建华",
                                           guardian_phone="13911112222", relation="儿子")])
    assert outcome.updated == 1
    assert Guardian.objects.filter(name="张建华").count() == 1
    guardian.refresh_from_db()
    assert guardian.phone == "13911112222"


def test_duplicate_id_within_the_file_rejects_the_later_row(tmp_path, world):
    number = make_id_number(date(1950, 1, 1))
    outcome = run(tmp_path, world, [person("李家湾村", "甲", number), person("李家湾村", "乙", number)])
    assert (outcome.new, outcome.rejected) == (1, 1)
    assert "与第 3 行身份证号重复" in reasons(outcome)[4][0]


def test_importing_the_same_workbook_twice_changes_nothing(tmp_path, world):
    rows = [person("李家湾村", f"老人{i}", guardian="张建华", relation="儿子", guardian_phone="13900002222",
                   agreement="是", caregiver="李四") for i in range(3)]
    path = write_workbook(tmp_path / "a.xlsx", rows)
    first = execute(str(path), filename="a.xlsx", user=world.users["town"])
    assert first.new == 3
    counts = (Elder.objects.count(), Guardian.objects.count(), ElderGuardian.objects.count(),
              CareAgreement.objects.count(), Events.objects.count())
    second = execute(str(path), filename="a.xlsx", user=world.users["town"])
    assert (second.new, second.updated, second.unchanged, second.rejected) == (0, 0, 3, 0)
    assert counts == (Elder.objects.count(), Guardian.objects.count(), ElderGuardian.objects.count(),
                      CareAgreement.objects.count(), Events.objects.count())
    assert Guardian.objects.count() == 1  # the three elders share their son


def test_strict_writes_nothing_when_a_row_is_rejected(tmp_path, world):
    outcome = run(tmp_path, world, [person("李家湾村", "甲"), person("石板村", "乙")], strict=True)
    assert outcome.rejected == 1
    assert not Elder.objects.exists()


def test_dry_run_writes_nothing_and_errors_workbook_has_reason_column(tmp_path, world):
    out = tmp_path / "errors.xlsx"
    outcome = run(tmp_path, world, [person("李家湾村", "甲"), person("石板村", "乙")], dry_run=True,
                  rejected_path=str(out))
    assert (outcome.new, outcome.rejected) == (1, 1)
    assert not Elder.objects.exists()
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == (*HEADER, "错误原因")
    assert rows[1][3] == "乙" and "不在您的辖区内" in rows[1][-1]


def test_two_guardians_with_the_same_name_stay_two_and_reimport_is_unchanged(tmp_path, world):
    header = [*HEADER, "第二赡养人姓名", "第二赡养人联系电话"]
    row = person("李家湾村", "王秀英", guardian="张伟", guardian_phone="13900001111") + ["张伟", "13900002222"]
    path = write_workbook(tmp_path / "twins.xlsx", [row], header=header)
    first = execute(str(path), filename="twins.xlsx", user=world.users["town"])
    assert first.new == 1
    elder = Elder.objects.get(name="王秀英")
    assert sorted(elder.guardian_links.values_list("guardian__phone", flat=True)) == ["13900001111", "13900002222"]
    second = execute(str(path), filename="twins.xlsx", user=world.users["town"])
    assert (second.unchanged, second.updated) == (1, 0)


def test_a_big_import_leaves_fresh_planner_statistics(tmp_path, world, monkeypatch):
    """The re-import that users run right after should not be planned for the table's old size."""
    from django.db import connection

    from registry.census import writer

    monkeypatch.setattr(writer, "ANALYZE_AFTER_NEW", 3)
    rows = [person("李家湾村", f"老人{i}", make_id_number(date(1950, 1, i + 1))) for i in range(3)]
    run(tmp_path, world, rows)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'registry_elder'")
        assert cursor.fetchone()[0] == Elder.objects.count()


def test_every_new_row_has_one_insert_event_and_the_triggers_are_back_after_the_import(tmp_path, world):
    """The import skips the row-level insert triggers while it writes and records the same events
    itself (bulk.Writes.begin / record_inserts_of); what the transaction inserts afterwards is
    recorded by the triggers again."""
    later = {}

    def before_commit(_outcome):  # in the import's transaction, after its last batch
        later["elder"] = make_elder(world.village, name="赵大山")

    rows = [person("李家湾村委会", f"老人{i}", make_id_number(date(1950, 1, i + 1)), guardian=f"子女{i}",
                   relation="儿子", guardian_phone=f"1390000111{i}", agreement="是", caregiver=f"照料人{i}")
            for i in range(3)]
    outcome = run(tmp_path, world, rows, before_commit=before_commit)
    assert outcome.new == 3
    for model in (Elder, Guardian, ElderGuardian, CareAgreement):
        for obj in model.objects.exclude(pk=later["elder"].pk) if model is Elder else model.objects.all():
            events = list(Events.objects.tracks(obj).filter(pgh_label="insert"))
            assert len(events) == 1, (model.__name__, obj.pk)
            assert events[0].pgh_context["source"] == "census_import"
    events = list(Events.objects.tracks(later["elder"]).filter(pgh_label="insert"))
    assert len(events) == 1 and events[0].pgh_context["source"] == "census_import"


def test_changes_in_several_batches_are_all_written(tmp_path, world):
    """Each batch's changes pass through the same temporary table (made once per import)."""
    numbers = [make_id_number(date(1950, 2, i + 1)) for i in range(5)]
    run(tmp_path, world, [person("李家湾村委会", f"老人{i}", n, phone=f"1380000100{i}") for i, n in enumerate(numbers)])
    outcome = run(tmp_path, world, [person("李家湾村委会", f"老人{i}", n, phone=f"1380000200{i}")
                                    for i, n in enumerate(numbers)], name="again.xlsx")
    assert (outcome.updated, outcome.unchanged) == (5, 0)
    assert sorted(Elder.objects.filter(id_number__in=numbers).values_list("phones", flat=True)) == [
        [f"1380000200{i}"] for i in range(5)]
