"""Relief factories: cases moved along the workflow through the real services."""

from relief import services
from relief.choices import ReliefCaseStatus, ReliefCaseType, ReliefCaseUrgency
from relief.models import ReliefCase
from tests.factories import make_elder

S = ReliefCaseStatus


def make_case(world, *, status=S.REPORTED, elder=None, case_type=ReliefCaseType.MAJOR_HARDSHIP,
              urgency=ReliefCaseUrgency.NORMAL, narrative="老人家中漏雨，无人照料", departments=None,
              village=None) -> ReliefCase:
    """A case in `status`, reported in world.village (or `village`) and walked there step by step."""
    village = village or world.village
    reporter = world.users["village"] if village == world.village else world.users["village2"] \
        if village == world.village2 else world.users["town"]
    town = world.users["town"]
    if elder is None:
        elder = make_elder(village, name="王秀英", phones=["13912345678"], address="李家湾村3组12号")
    case = services.report_case(elder, case_type=case_type, urgency=urgency, narrative=narrative,
                                acting_user=reporter)
    if status == S.REPORTED:
        return _fresh(case)
    if status == S.RETURNED:
        services.return_case(case, reason="请补充老人目前的住处", acting_user=town)
        return _fresh(case)
    services.accept_case(case, acting_user=town)
    if status == S.ACCEPTED:
        return _fresh(case)
    referrals = services.refer_case(case, departments=departments or [world.police], acting_user=town)
    if status == S.REFERRED:
        return _fresh(case)
    officer = world.users["clinic" if referrals[0].department == world.clinic else "police"]
    services.receive_referral(referrals[0], acting_user=officer)
    if status == S.RECEIVED:
        return _fresh(case)
    services.start_referral(referrals[0], acting_user=officer)
    if status == S.IN_PROGRESS:
        return _fresh(case)
    services.close_case(case, outcome="已送医并联系子女回家照料", acting_user=town)
    return _fresh(case)


def _fresh(case):
    return ReliefCase.objects.get(pk=case.pk)
