"""High-risk follow-through (policy 二(五): 对风险等级高的留守老年人及时进行干预).

"Intervention" is defined here once: within the elder's visit interval (visits.schedule), a
visit, a relief case reported, or a service delivered. The oversight app is the one layer that
may read visits, relief and services together, so the definition lives here; the high-risk page,
its menu badge and the town's alert read `with_interventions`.
"""

from django.db import models
from django.db.models import Exists, F, Func, Max, OuterRef, Q, Subquery, Value
from django.utils import timezone

from registry.choices import ElderRiskLevel
from relief.models import ReliefCase
from services.models import ServiceRecord
from visits.choices import DueBucket
from visits.schedule import annotate_schedule


class _DaysBefore(Func):
    """date - integer → date (PostgreSQL date arithmetic)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = models.DateField()


def with_interventions(elders, today=None):
    """`elders` (active ones; the schedule keeps only 在册) annotated with:

    - `window_start`: today minus the elder's visit interval (the town's days for the level);
    - `last_visit_at`, `next_due`, `due_bucket` from the visit schedule;
    - `last_case_at`: the latest relief case reported; `last_service_on`: the latest service;
    - `visited_in_time`: a visit within the interval (the schedule is not overdue);
    - `intervened`: a visit within the interval, or a case reported or a service delivered
      since `window_start` — the one definition of "had an intervention".
    """
    today = today or timezone.localdate()
    scheduled = annotate_schedule(elders, today=today)
    cases = ReliefCase.objects.filter(elder=OuterRef("pk")).order_by().values("elder")
    services = ServiceRecord.objects.filter(elder=OuterRef("pk")).order_by().values("elder")
    window = _DaysBefore(Value(today, output_field=models.DateField()), F("interval_days"))
    return scheduled.annotate(
        window_start=window,
        last_case_at=Subquery(cases.annotate(m=Max("reported_at")).values("m"),
                              output_field=models.DateTimeField()),
        last_service_on=Subquery(services.annotate(m=Max("served_on")).values("m"),
                                 output_field=models.DateField()),
    ).annotate(
        visited_in_time=models.ExpressionWrapper(~Q(due_bucket=DueBucket.OVERDUE), output_field=models.BooleanField()),
        case_in_time=Exists(ReliefCase.objects.filter(elder=OuterRef("pk"), reported_at__date__gte=OuterRef("window_start"))),
        service_in_time=Exists(ServiceRecord.objects.filter(elder=OuterRef("pk"), served_on__gte=OuterRef("window_start"))),
    ).annotate(
        intervened=models.ExpressionWrapper(Q(visited_in_time=True) | Q(case_in_time=True) | Q(service_in_time=True),
                                            output_field=models.BooleanField()),
    )


def high_risk_elders(elders, today=None):
    """在册 elders whose current risk level is 高, with their interventions."""
    return with_interventions(elders.filter(risk_level=ElderRiskLevel.HIGH), today)


def high_risk_without_intervention(elders, today=None):
    """The town's alert: 高-risk elders with no intervention inside their interval."""
    return high_risk_elders(elders, today).filter(intervened=False)
