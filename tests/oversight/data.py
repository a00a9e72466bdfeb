"""A small county with something for every metric, in all three villages of tests.factories."""

from datetime import timedelta

from django.utils import timezone

from registry.choices import ElderLiving, ElderRiskLevel, ElderSelfCare, SupervisionMethod, SupervisionResult
from registry.models import CareAgreement, Elder, Supervision
from relief.choices import ReliefCaseStatus
from tests.factories import make_elder, make_guardian
from tests.relief.factories import make_case
from tests.services.factories import make_check, make_contract
from tests.visits.factories import make_visit, register_days_ago

S = ReliefCaseStatus


def populate(world, per_village: int = 3) -> None:
    """`per_village` groups of elders in each village, with visits, cases, checks, contracts,
    agreements and refusals: every metric has rows in every village (and none is everywhere)."""
    today = timezone.localdate()
    for village in (world.village, world.village2, world.other_village):
        worker = {world.village: world.users["village"], world.village2: world.users["village2"]}.get(
            village, world.users["other_village"])
        for n in range(per_village):
            plain = make_elder(village, name=f"甲{n}", age=70)
            make_visit(plain, worker, days_ago=3)
            make_visit(plain, worker, days_ago=40, method="home")
            old = make_elder(village, name=f"乙{n}", age=85, dibao=True, risk_level=ElderRiskLevel.HIGH)
            make_visit(old, worker, days_ago=30)  # key target (15 days): overdue
            make_check(old, world.users["clinic"], checked_on=today - timedelta(days=1))
            make_contract(old)
            lonely = make_elder(village, name=f"丙{n}", age=75, living=ElderLiving.ALONE,
                                self_care=ElderSelfCare.DISABLED, risk_level=ElderRiskLevel.MEDIUM)
            register_days_ago(lonely, 5)  # never visited
            guardian = make_guardian(lonely, name=f"子{n}")
            CareAgreement.objects.create(elder=lonely, guardian=guardian, caregiver_name="邻居",
                                         start_date=today - timedelta(days=300), end_date=today + timedelta(days=10))
            Supervision.objects.create(elder=lonely, guardian=guardian, supervised_on=today,
                                       method=SupervisionMethod.PHONE, result=SupervisionResult.REFUSED,
                                       recorded_by=world.users["town"])
            young = make_elder(village, name=f"丁{n}", age=62, risk_level=ElderRiskLevel.LOW)
            make_visit(young, worker, days_ago=0, method="home")
            gone = make_elder(village, name=f"戊{n}", age=90)
            Elder.objects.filter(pk=gone.pk).update(status="deceased")
        if village != world.other_village:
            for status in (S.REPORTED, S.RETURNED, S.ACCEPTED, S.IN_PROGRESS, S.CLOSED):
                make_case(world, status=status, village=village,
                          elder=Elder.objects.filter(village=village, status="active").first())
