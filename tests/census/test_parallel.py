"""Big files are checked and classified in a thread of their own, ahead of the writes, with the
register lookups in another (registry/census/writer.py states the contract): the outcome is the
same as in line, a failure or a cancel in any thread reaches the caller, and nothing is
half-written. Transactional tests: the threads have their own connections and read committed
data only. tests/census/test_writer.py runs its cases both ways too."""

import threading
from datetime import date

import pytest
from pghistory.models import Events

from registry.census.services import ImportCancelled, execute
from registry.models import ID_REGISTERED_ELSEWHERE, CareAgreement, Elder, ElderGuardian, Guardian
from tests.census.helpers import person, write_workbook
from tests.factories import make_elder, make_guardian, make_id_number

pytestmark = pytest.mark.django_db(transaction=True)


def census_threads():
    return [thread for thread in threading.enumerate() if thread.name.startswith("census-")]


def register():
    return (sorted(Elder.objects.values_list("id_number", "name", "living", "name_initials", "source_import_id")),
            sorted(Guardian.objects.values_list("name", "phone", "whereabouts")),
            sorted(ElderGuardian.objects.values_list("elder__name", "guardian__name", "relation", "is_primary")),
            sorted(CareAgreement.objects.values_list("elder__name", "caregiver_name")), Events.objects.count())


def test_the_outcome_is_the_same_in_line_and_ahead(tmp_path, world, parallel):
    existing = make_elder(world.village, name="王秀英", living="alone")
    make_guardian(existing, name="张建华", phone="13800001234")
    outsider = make_elder(world.other_village, name="外镇老人")
    rows = [
        person("李家湾村", "王秀英", existing.id_number, living="与配偶同住", guardian="张建华", relation="女婿",
               guardian_phone="13911112222"),
        person("李家湾村", "单雄", make_id_number(date(1950, 1, 2)), guardian="李强", relation="儿子",
               guardian_phone="13900002222", agreement="是", caregiver="李四"),
        person("李家湾村", "曾平", make_id_number(date(1951, 1, 2)), guardian="李强", relation="儿子",
               guardian_phone="13900002222"),
        person("李家湾村", "冒名", outsider.id_number),
        person("石板村", "外村"),
        person("李家湾村", "甲", make_id_number(date(1952, 1, 2)), guardian="王芳", relation="女儿"),
        person("李家湾村", "乙", make_id_number(date(1953, 1, 2)), guardian="王芳", relation="女儿"),
    ]
    path = write_workbook(tmp_path / "survey.xlsx", rows)
    outcome = execute(str(path), filename="survey.xlsx", user=world.users["town"])

    assert outcome.counts() == {"new": 4, "updated": 1, "unchanged": 0, "rejected": 2, "warnings": 0, "rows": 7}
    reasons = {entry["row"]: entry["issues"][0]["message"] for entry in outcome.rejected_rows}
    assert sorted(reasons) == [6, 7] and reasons[6] == str(ID_REGISTERED_ELSEWHERE) and "不在您的辖区内" in reasons[7]
    existing.refresh_from_db()
    assert existing.living == "spouse"
    assert ElderGuardian.objects.get(elder=existing).relation == "son_in_law"
    assert Guardian.objects.get(name="张建华").phone == "13911112222"
    assert Guardian.objects.filter(name="李强").count() == 1  # one son of two elders, known by his phone
    assert Guardian.objects.filter(name="王芳").count() == 2  # no phone: a name alone is not one person

    before = register()
    again = execute(str(path), filename="survey.xlsx", user=world.users["town"])
    assert (again.new, again.updated, again.unchanged, again.rejected) == (0, 0, 5, 2)
    assert register() == before


def test_a_shared_guardian_written_differently_keeps_the_first_rows_values(tmp_path, world, parallel):
    """Re-importing must change nothing, even when two rows disagree about one person."""
    rows = [person("李家湾村", f"老人{i}", make_id_number(date(1950, 1, i + 1)), guardian="李强",
                   guardian_phone="13900002222") for i in range(3)]
    path = write_workbook(tmp_path / "a.xlsx", rows)
    execute(str(path), filename="a.xlsx", user=world.users["town"])
    guardian = Guardian.objects.get(name="李强")
    guardian.whereabouts = "浙江宁波"
    guardian.save()
    header = ["序号", "村", "姓名", "身份证号码", "主要赡养人姓名", "主要赡养人联系电话", "主要赡养人务工地"]
    places = ["广东东莞", "本村", "本村"]
    rows = [[None, "李家湾村", f"老人{i}", row[4], "李强", "13900002222", places[i]] for i, row in enumerate(rows)]
    path = write_workbook(tmp_path / "b.xlsx", rows, header=header)
    first = execute(str(path), filename="b.xlsx", user=world.users["town"])
    assert (first.updated, first.unchanged) == (1, 2)
    assert Guardian.objects.get(name="李强").whereabouts == "广东东莞"
    events = Events.objects.count()
    second = execute(str(path), filename="b.xlsx", user=world.users["town"])
    assert (second.updated, second.unchanged) == (0, 3)
    assert Events.objects.count() == events


def test_a_failure_while_writing_rolls_everything_back_and_stops_the_thread(tmp_path, world, parallel, monkeypatch):
    from registry.census import bulk

    rows = [person("李家湾村", f"老人{i}", make_id_number(date(1950, 1, i + 1))) for i in range(7)]
    path = write_workbook(tmp_path / "a.xlsx", rows)
    before = register()
    written = []
    real = bulk.Writes.write

    def fail_on_the_last(self, prepared):
        # The write that holds the last elder, after those before it were written: how many writes
        # there are depends on the timing (the batches waiting are written together).
        written.extend(pk for model, ids, _ in prepared.inserts if model is Elder for pk in ids)
        if len(written) == len(rows):
            raise RuntimeError("disk full")
        real(self, prepared)

    monkeypatch.setattr(bulk.Writes, "write", fail_on_the_last)
    with pytest.raises(RuntimeError, match="disk full"):
        execute(str(path), filename="a.xlsx", user=world.users["town"])
    assert register() == before
    assert census_threads() == []  # no thread left behind


@pytest.mark.parametrize("step", ["lookup", "classify"])
def test_a_failure_while_classifying_reaches_the_caller(tmp_path, world, parallel, monkeypatch, step):
    """Looking rows up (its own thread when ahead) or classifying them (the classifying thread)."""
    from registry.census import lookups, writer

    rows = [person("李家湾村", f"老人{i}", make_id_number(date(1950, 1, i + 1))) for i in range(7)]
    path = write_workbook(tmp_path / "a.xlsx", rows)
    before = register()
    owner, name = (lookups.Lookups, "chunk") if step == "lookup" else (writer, "classify")
    real = getattr(owner, name)
    calls = []

    def fail_on_the_third(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise ValueError("resolving broke")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, fail_on_the_third)
    with pytest.raises(ValueError, match="resolving broke"):
        execute(str(path), filename="a.xlsx", user=world.users["town"])
    assert register() == before
    assert census_threads() == []


def test_a_cancel_between_batches_rolls_back(tmp_path, world, parallel):
    rows = [person("李家湾村", f"老人{i}", make_id_number(date(1950, 1, i + 1))) for i in range(7)]
    path = write_workbook(tmp_path / "a.xlsx", rows)
    before = register()
    seen = []

    def progress(processed, outcome):
        seen.append(processed)
        if processed >= 4:
            raise ImportCancelled

    with pytest.raises(ImportCancelled):
        execute(str(path), filename="a.xlsx", user=world.users["town"], progress=progress)
    # Progress after each batch written, or each group of batches written together (ahead).
    assert seen[-1] >= 4 and all(processed < 4 for processed in seen[:-1])
    assert register() == before
    assert census_threads() == []


def test_batches_waiting_are_handed_over_together_in_order():
    """_run_ahead hands the caller every item ready (in order, none twice, none lost): a writer
    that fell behind writes the batches waiting together."""
    import time

    from registry.census.writer import _run_ahead

    groups = []
    for group in _run_ahead(iter(range(20)), "test-ahead", depth=3):
        groups.append(group)
        time.sleep(0.02)  # the producer gets ahead
    assert [item for group in groups for item in group] == list(range(20))
    assert max(len(group) for group in groups) > 1 and all(groups)


def test_an_error_after_items_ready_is_raised():
    from registry.census.writer import _run_ahead

    def items():
        yield 1
        raise ValueError("broken row")

    with pytest.raises(ValueError, match="broken row"):
        list(_run_ahead(items(), "test-ahead"))
