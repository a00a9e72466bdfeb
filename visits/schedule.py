"""The visit schedule, defined once: a queryset annotation on elders.

`annotate_schedule(Elder.objects.for_user(user))` adds, for every active (在册) elder:

- `schedule_level`   the risk level the schedule uses: `Elder.risk_level` once the relief app
                     has confirmed an assessment, else provisional (失能独居 → 高, 重点对象 → 中,
                     others → 低)
- `interval_days`    the town's interval for that level, capped at 15 days for key targets
- `last_visit_at`, `last_home_visit_at`, `urgent_due_by` (earliest open urgent request), read
                     from `ElderVisitState`, which the visit services keep
- `next_due`         the earliest of: last visit + interval; for 失能独居, last HOME visit +
                     the home-visit interval; the urgent request's deadline. An elder never
                     visited (or, for the home rule, never visited at home) is due on the
                     registration date: the first visit is due at once.
- `days_overdue`, `is_overdue`, `due_bucket` (overdue / today / week / later)

Worklists, counts, badges, the town overview and dashboards all read these annotations; nothing
recomputes a due date elsewhere.
"""

import itertools
from datetime import timedelta

from django.db import connections, models
from django.db.models import Case, ExpressionWrapper, F, Func, Q, Value, When
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.utils import timezone

from registry.choices import ElderRiskLevel, ElderStatus
from visits.choices import DueBucket
from visits.models import (
    DEFAULT_HIGH_DAYS,
    DEFAULT_LOW_DAYS,
    DEFAULT_MEDIUM_DAYS,
    DISABLED_ALONE_HOME_DAYS,
    KEY_TARGET_MAX_DAYS,
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


_tokens = itertools.count()


class Shared(Func):
    """An annotation compiled once per query and reused wherever it is referenced.

    Django inlines an annotation's whole expression at every reference (`next_due` appears in
    `days_overdue`, `is_overdue`, `due_bucket`, filters and ordering, each of which nests the
    levels below it), so compiling the schedule took seconds of Python. The SQL text is still
    repeated, but PostgreSQL computes each distinct aggregate once.
    """

    template = "%(expressions)s"

    def __init__(self, *expressions, **extra):
        super().__init__(*expressions, **extra)
        # Django copies expressions while resolving and compiling them; the copies keep this
        # token, so every copy of one annotation finds the SQL compiled for the first.
        self.token = next(_tokens)

    def as_sql(self, compiler, connection, **extra_context):
        cache = compiler.__dict__.setdefault("_shared_sql", {})
        if self.token not in cache:
            cache[self.token] = super().as_sql(compiler, connection, **extra_context)
        sql, params = cache[self.token]
        return sql, list(params)


def _policy(field: str, default: int):
    """The elder's town policy value (a LEFT JOIN through village → town → policy), or the default."""
    return Coalesce(F(f"village__parent__visit_policy__{field}"), Value(default))


def annotate_schedule(elders, today=None, now=None):
    """Active elders of `elders` (an Elder queryset from the default manager, already scoped)
    annotated with their schedule; see the module docstring for the rules."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    today_value = Value(today, output_field=models.DateField())
    registered_on = TruncDate("created_at")
    date = models.DateField()
    integer = models.IntegerField()
    return elders.filter(status=ElderStatus.ACTIVE).annotate(
        schedule_level=Shared(Case(
            When(~Q(risk_level=""), then=F("risk_level")),
            When(is_disabled_alone=True, then=Value(ElderRiskLevel.HIGH)),
            When(is_key_target=True, then=Value(ElderRiskLevel.MEDIUM)),
            default=Value(ElderRiskLevel.LOW),
            output_field=models.CharField(),
        )),
        # One LEFT JOIN to the per-elder visit state (kept by visits.services), rather than
        # searching the elder's visits at every place the rules below refer to them.
        last_visit_at=F("visit_state__last_visit_at"),
        last_home_visit_at=F("visit_state__last_home_visit_at"),
        urgent_due_by=F("visit_state__urgent_due_by"),
    ).annotate(
        level_interval=Shared(Case(
            When(schedule_level=ElderRiskLevel.HIGH, then=_policy("high_days", DEFAULT_HIGH_DAYS)),
            When(schedule_level=ElderRiskLevel.MEDIUM, then=_policy("medium_days", DEFAULT_MEDIUM_DAYS)),
            default=_policy("low_days", DEFAULT_LOW_DAYS),
            output_field=integer,
        )),
    ).annotate(
        interval_days=Shared(Case(
            When(is_key_target=True,
                 then=Least(F("level_interval"), _policy("key_target_max_days", KEY_TARGET_MAX_DAYS))),
            default=F("level_interval"),
            output_field=integer,
        )),
    ).annotate(
        regular_due=Shared(Case(
            When(last_visit_at__isnull=True, then=registered_on),
            default=AddDays(TruncDate("last_visit_at"), F("interval_days")),
            output_field=date,
        )),
        home_due=Shared(Case(
            When(is_disabled_alone=False, then=Value(None, output_field=date)),
            When(last_home_visit_at__isnull=True, then=registered_on),
            default=AddDays(TruncDate("last_home_visit_at"), _policy("home_visit_days", DISABLED_ALONE_HOME_DAYS)),
            output_field=date,
        )),
    ).annotate(
        # PostgreSQL's LEAST ignores NULLs: a rule that does not apply simply drops out.
        next_due=Shared(Least(F("regular_due"), F("home_due"), TruncDate("urgent_due_by"), output_field=date)),
    ).annotate(
        days_overdue=Shared(Greatest(DaysBetween(today_value, F("next_due")), Value(0)), output_field=integer),
        is_overdue=Shared(ExpressionWrapper(
            Q(next_due__lt=today) | Q(urgent_due_by__isnull=False, urgent_due_by__lt=now),
            output_field=models.BooleanField(),
        )),
    ).annotate(
        due_bucket=Shared(Case(
            When(is_overdue=True, then=Value(DueBucket.OVERDUE)),
            When(next_due__lte=today, then=Value(DueBucket.TODAY)),
            When(next_due__lt=today + timedelta(days=WEEK_DAYS), then=Value(DueBucket.WEEK)),
            default=Value(DueBucket.LATER),
            output_field=models.CharField(),
        )),
    )


# The worklist's bucket codes sort in worklist order (overdue < today < week), so the worklist
# orders by `due_bucket` itself rather than by another copy of the expression.
WORKLIST_BUCKETS = [DueBucket.OVERDUE, DueBucket.TODAY, DueBucket.WEEK]
assert sorted(WORKLIST_BUCKETS) == WORKLIST_BUCKETS


def due_within_week(scheduled):
    """Of an `annotate_schedule` queryset, the elders on the worklist: overdue or due within 7 days."""
    return scheduled.filter(due_bucket__in=WORKLIST_BUCKETS)


COUNT_KEYS = ("total", "overdue", "due_today", "due_week")


def schedule_counts(scheduled, group_by: str) -> dict:
    """{value of `group_by`: {"total", "overdue", "due_today", "due_week"}} for an
    `annotate_schedule` queryset, in one query.

    The scheduled queryset becomes a subquery, so the buckets counted are exactly the
    annotation's, whatever the annotation is built from.
    """
    # The queryset's own database: the replica when the view reads from it (eldercare.replica).
    db = connections[scheduled.db]
    column = db.ops.quote_name(group_by)  # values() names the subquery's column after the field
    inner = scheduled.order_by().values(group_by, "due_bucket")
    sql, params = inner.query.sql_with_params()
    buckets = [DueBucket.OVERDUE, DueBucket.TODAY, DueBucket.WEEK]
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT s.{column}, COUNT(*), "
            + ", ".join("COUNT(*) FILTER (WHERE s.due_bucket = %s)" for _ in buckets)
            + f" FROM ({sql}) s GROUP BY s.{column}",
            [*buckets, *params],
        )
        return {row[0]: dict(zip(COUNT_KEYS, row[1:], strict=True)) for row in cursor.fetchall()}
