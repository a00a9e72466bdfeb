"""High-risk follow-through (policy 二(五): 对风险等级高的留守老年人及时进行干预).

"Intervention" is defined here once (`with_interventions`): a visit within the elder's visit
interval (visits.schedule: the schedule is not overdue), or a relief case reported or a service
delivered within the window. The window is a parameter:

- none given: the elder's own visit interval, ending today (today minus the town's days for the
  elder's level up to today) — the high-risk page, its menu badge and the town's alert;
- a reporting period (`oversight.periods.Period`): the period's days, from its first day to its
  "as of" day — the scorecard's 高风险老人及时干预.

The oversight app is the one layer that may read visits, relief and services together, so the
definition lives here.
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


def with_interventions(elders, today=None, period=None):
    """`elders` (active ones; the schedule keeps only 在册) annotated with:

    - `window_start`, `window_end`: the window's first and last day — the elder's visit interval
      ending `today` (default), or the days of `period`;
    - `last_visit_at`, `next_due`, `due_bucket` from the visit schedule (as of today);
    - `last_case_at`: the latest relief case reported; `last_service_on`: the latest service;
    - `visited_in_time`: a visit within the interval (the schedule is not overdue);
    - `case_in_time`, `service_in_time`: a case reported, a service delivered within the window;
    - `intervened`: any of the three — the one definition of "had an intervention".
    """
    today = today or timezone.localdate()
    scheduled = annotate_schedule(elders, today=today)
    date = models.DateField()
    cases = ReliefCase.objects.filter(elder=OuterRef("pk"))
    services = ServiceRecord.objects.filter(elder=OuterRef("pk"))
    if period is None:
        scheduled = scheduled.annotate(window_start=_DaysBefore(Value(today, output_field=date), F("interval_days")),
                                       window_end=Value(today, output_field=date))
        case_in_window = cases.filter(reported_at__date__gte=OuterRef("window_start"),
                                      reported_at__date__lte=OuterRef("window_end"))
        service_in_window = services.filter(served_on__gte=OuterRef("window_start"), served_on__lte=OuterRef("window_end"))
    else:
        # The same days as every WITHIN figure of the period (local midnights for datetimes).
        scheduled = scheduled.annotate(window_start=Value(period.start, output_field=date),
                                       window_end=Value(period.on, output_field=date))
        case_in_window = cases.filter(reported_at__gte=period.since(), reported_at__lt=period.until())
        service_in_window = services.filter(served_on__gte=period.start, served_on__lte=period.on)
    return scheduled.annotate(
        last_case_at=Subquery(cases.order_by().values("elder").annotate(m=Max("reported_at")).values("m"),
                              output_field=models.DateTimeField()),
        last_service_on=Subquery(services.order_by().values("elder").annotate(m=Max("served_on")).values("m"),
                                 output_field=date),
        visited_in_time=models.ExpressionWrapper(~Q(due_bucket=DueBucket.OVERDUE), output_field=models.BooleanField()),
        case_in_time=Exists(case_in_window),
        service_in_time=Exists(service_in_window),
    ).annotate(
        intervened=models.ExpressionWrapper(Q(visited_in_time=True) | Q(case_in_time=True) | Q(service_in_time=True),
                                            output_field=models.BooleanField()),
    )


def high_risk_elders(elders, today=None, period=None):
    """在册 elders whose current risk level is 高, with their interventions (window as above)."""
    return with_interventions(elders.filter(risk_level=ElderRiskLevel.HIGH), today, period)


def high_risk_without_intervention(elders, today=None, period=None):
    """The town's alert: 高-risk elders with no intervention inside their interval (or `period`)."""
    return high_risk_elders(elders, today, period).filter(intervened=False)
