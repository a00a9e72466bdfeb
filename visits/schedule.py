"""The visit schedule, defined once: a queryset annotation on elders.

`annotate_schedule(Elder.objects.for_user(user))` adds, for every active (在册) elder:

- `schedule_level`   the risk level the schedule uses: `Elder.risk_level` once the relief app
                     has confirmed an assessment, else provisional (失能独居 → 高, 重点对象 → 中,
                     others → 低)
- `interval_days`    the town's interval for that level, capped at 15 days for key targets
- `last_visit_at`, `last_home_visit_at`, `urgent_due_by` (earliest open urgent request)
- `next_due`         the earliest of: last visit + interval; for 失能独居, last HOME visit +
                     the home-visit interval; the urgent request's deadline. An elder never
                     visited (or, for the home rule, never visited at home) is due on the
                     registration date: the first visit is due at once.
- `days_overdue`, `is_overdue`, `due_bucket` (overdue / today / week / later)

Worklists, counts, badges, the town overview and dashboards all read these annotations; nothing
recomputes a due date elsewhere.
"""

from datetime import timedelta

from django.db import models
from django.db.models import Case, ExpressionWrapper, F, Func, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest, Least, Substr, TruncDate
from django.utils import timezone

from registry.choices import ElderRiskLevel, ElderStatus
from visits.choices import DueBucket, VisitMethod
from visits.models import (
    DEFAULT_HIGH_DAYS,
    DEFAULT_LOW_DAYS,
    DEFAULT_MEDIUM_DAYS,
    DISABLED_ALONE_HOME_DAYS,
    KEY_TARGET_MAX_DAYS,
    UrgentVisitRequest,
    Visit,
    VisitPolicy,
)

WEEK_DAYS = 7  # "due this week": within the next seven days, today included


class AddDays(Func):
    """date + integer → date (PostgreSQL date arithmetic)."""

    arg_joiner = " + "
    template = "(%(expressions)s)"
    output_field = models.DateField()


class DaysBetween(Func):
    """date - date → integer number of days."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = models.IntegerField()


def _policy(field: str, default: int):
    """The elder's town policy value (town = first 9 digits of the village code), or the default."""
    town_policy = VisitPolicy.objects.filter(town_id=Substr(OuterRef("village_id"), 1, 9)).values(field)[:1]
    return Coalesce(Subquery(town_policy, output_field=models.IntegerField()), Value(default))


def _latest_visit(**filters):
    visits = Visit.objects.filter(elder=OuterRef("pk"), **filters).order_by("-visited_at").values("visited_at")[:1]
    return Subquery(visits, output_field=models.DateTimeField())


def annotate_schedule(elders, today=None, now=None):
    """Active elders of `elders` (an Elder queryset from the default manager, already scoped)
    annotated with their schedule; see the module docstring for the rules."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    today_value = Value(today, output_field=models.DateField())
    open_urgent = UrgentVisitRequest.objects.filter(elder=OuterRef("pk"), fulfilled_by__isnull=True)
    registered_on = TruncDate("created_at")
    return elders.filter(status=ElderStatus.ACTIVE).annotate(
        schedule_level=Case(
            When(~Q(risk_level=""), then=F("risk_level")),
            When(is_disabled_alone=True, then=Value(ElderRiskLevel.HIGH)),
            When(is_key_target=True, then=Value(ElderRiskLevel.MEDIUM)),
            default=Value(ElderRiskLevel.LOW),
            output_field=models.CharField(),
        ),
    ).annotate(
        level_interval=Case(
            When(schedule_level=ElderRiskLevel.HIGH, then=_policy("high_days", DEFAULT_HIGH_DAYS)),
            When(schedule_level=ElderRiskLevel.MEDIUM, then=_policy("medium_days", DEFAULT_MEDIUM_DAYS)),
            default=_policy("low_days", DEFAULT_LOW_DAYS),
            output_field=models.IntegerField(),
        ),
    ).annotate(
        interval_days=Case(
            When(is_key_target=True, then=Least(F("level_interval"), _policy("key_target_max_days",
                                                                             KEY_TARGET_MAX_DAYS))),
            default=F("level_interval"),
            output_field=models.IntegerField(),
        ),
        last_visit_at=_latest_visit(),
        last_home_visit_at=_latest_visit(method=VisitMethod.HOME),
        urgent_due_by=Subquery(open_urgent.order_by("due_by").values("due_by")[:1],
                               output_field=models.DateTimeField()),
    ).annotate(
        regular_due=Case(
            When(last_visit_at__isnull=True, then=registered_on),
            default=AddDays(TruncDate("last_visit_at"), F("interval_days")),
            output_field=models.DateField(),
        ),
        home_due=Case(
            When(is_disabled_alone=False, then=Value(None, output_field=models.DateField())),
            When(last_home_visit_at__isnull=True, then=registered_on),
            default=AddDays(TruncDate("last_home_visit_at"), _policy("home_visit_days", DISABLED_ALONE_HOME_DAYS)),
            output_field=models.DateField(),
        ),
    ).annotate(
        # PostgreSQL's LEAST ignores NULLs: a rule that does not apply simply drops out.
        next_due=Least(F("regular_due"), F("home_due"), TruncDate("urgent_due_by"), output_field=models.DateField()),
    ).annotate(
        days_overdue=Greatest(DaysBetween(today_value, F("next_due")), Value(0)),
        is_overdue=ExpressionWrapper(
            Q(next_due__lt=today) | Q(urgent_due_by__isnull=False, urgent_due_by__lt=now),
            output_field=models.BooleanField(),
        ),
    ).annotate(
        due_bucket=Case(
            When(is_overdue=True, then=Value(DueBucket.OVERDUE)),
            When(next_due__lte=today, then=Value(DueBucket.TODAY)),
            When(next_due__lt=today + timedelta(days=WEEK_DAYS), then=Value(DueBucket.WEEK)),
            default=Value(DueBucket.LATER),
            output_field=models.CharField(),
        ),
    )


BUCKET_ORDER = Case(
    When(due_bucket=DueBucket.OVERDUE, then=Value(0)),
    When(due_bucket=DueBucket.TODAY, then=Value(1)),
    When(due_bucket=DueBucket.WEEK, then=Value(2)),
    default=Value(3),
    output_field=models.IntegerField(),
)


def due_within_week(scheduled):
    """Of an `annotate_schedule` queryset, the elders on the worklist: overdue or due within 7 days."""
    return scheduled.exclude(due_bucket=DueBucket.LATER)
