"""Issue 21 (2): who reads the notes of a sensitive case's timeline (docs/relief.md, "Who sees what").

On 遭受非法侵害 / 患有严重精神疾病 cases: town staff read every note; the reporting village reads the
return reasons and the outcome only; the county reads none; a department reads the notes of its own
referral's rows; nobody else reaches the case at all."""

import pytest
from django.urls import reverse

from relief import services
from relief.choices import SENSITIVE_CASE_TYPES, CaseEventAction
from relief.models import CaseEvent, Referral
from tests.factories import make_elder

A = CaseEventAction
pytestmark = pytest.mark.django_db


def walk_every_step(world, case_type):
    """A sensitive case taken through every timeline action, each event carrying a note of its own."""
    town, village = world.users["town"], world.users["village"]
    elder = make_elder(world.village, name="王秀英")
    case = services.report_case(elder, case_type=case_type, urgency="normal", narrative="邻居殴打老人",
                                acting_user=village)
    services.return_case(case, reason="请补充", acting_user=town)
    services.resubmit_case(case, supplement="已补充", acting_user=village)
    services.accept_case(case, note="已受理", acting_user=town)
    services.refer_case(case, departments=[world.police, world.justice], note="请协助", acting_user=town)
    for username, department in (("police", world.police), ("justice", world.justice)):
        referral = Referral.objects.get(case=case, department=department)
        officer = world.users[username]
        services.receive_referral(referral, note="已接收", acting_user=officer)
        services.start_referral(referral, note="已出警", acting_user=officer)
        services.close_referral(referral, result="已处置", acting_user=officer)
    events = list(CaseEvent.objects.filter(case=case).select_related("referral__department"))
    for event in events:  # a note per event, whether or not the step's form asks for one
        event.note = f"备注{event.pk:05d}号"
        CaseEvent.objects.filter(pk=event.pk).update(note=event.note)
    assert {e.action for e in events} == set(A.values), "the walk must cover every timeline action"
    return case, events


def expected_readers(event, world):
    """The roles docs/relief.md lets read `event`'s note on a sensitive case."""
    readers = {"town"}
    if event.action in (A.RETURN, A.CLOSE):
        readers.add("village")
    for username, department in (("police", world.police), ("justice", world.justice)):
        if event.referral is not None and event.referral.department == department:
            readers.add(username)
    return readers


@pytest.mark.parametrize("case_type", sorted(SENSITIVE_CASE_TYPES))
def test_sensitive_case_notes_are_shown_exactly_to_the_roles_the_rule_names(case_type, world, login):
    case, events = walk_every_step(world, case_type)
    url = reverse("relief:case_detail", args=[case.pk])
    for username, user in world.users.items():
        response = login(user).get(url)
        if username in ("village2", "other_town", "other_village", "clinic"):
            assert response.status_code == 404, username
            continue
        assert response.status_code == 200, username
        html = response.content.decode()
        for event in events:
            shown = event.note in html
            assert shown == (username in expected_readers(event, world)), (username, event.action, shown)


def test_county_does_not_read_the_return_reason_of_an_illegal_harm_case(world, login):
    case = services.report_case(make_elder(world.village, name="王秀英"), case_type="illegal_harm", urgency="normal",
                                narrative="邻居殴打老人", acting_user=world.users["village"])
    services.return_case(case, reason="请写明施害人与老人的关系", acting_user=world.users["town"])
    url = reverse("relief:case_detail", args=[case.pk])
    county = login(world.users["county"]).get(url).content.decode()
    assert "退回补充" in county and "请写明施害人与老人的关系" not in county
    village = login(world.users["village"]).get(url).content.decode()
    assert "请写明施害人与老人的关系" in village
