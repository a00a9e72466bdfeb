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
    """An annotation resolved once and compiled once per query, wherever it is referenced.

    Django inlines an annotation's whole expression at every reference (`next_due` appears in
    `days_overdue`, `is_overdue`, `due_bucket`, filters and ordering, each of which nests the
    levels below it), and copies it again at each; compiling the schedule took seconds of
    Python. The SQL text is still repeated at each reference, which is why annotate_schedule
    names each level as few times as it can (docs/performance.md, "Pages and load").
    """

    template = "%(expressions)s"
    resolved = False

    def __init__(self, *expressions, **extra):
        super().__init__(*expressions, **extra)
        # Django copies expressions while resolving and compiling them; the copies keep this
        # token, so every copy of one annotation finds the SQL compiled for the first.
        self.token = next(_tokens)

    def resolve_expression(self, *args, **kwargs):
        # Resolved once, when annotated. Every later reference (an F() of this annotation in the
        # next one, a filter, and every lookup's left-hand side, which Django resolves again at
        # each compilation) would otherwise copy the whole tree below it, level by level: that
        # copying, not the SQL, was most of the schedule's cost (~8 ms per query compiled).
        if self.resolved:
            return self
        resolved = super().resolve_expression(*args, **kwargs)
        resolved.resolved = True
        return resolved

    def as_sql(self, compiler, connection, **extra_context):
        cache = compiler.__dict__.setdefault("_shared_sql", {})
        if self.token not in cache:
            cache[self.token] = super().as_sql(compiler, connection, **extra_context)
        sql, params = cache[self.token]
        return sql, list(params)


class Switch(Func):
    """CASE operand WHEN value THEN result … ELSE default END: the operand written once, where
    Case(When(x=a, …), When(x=b, …)) writes x out again in every branch."""

    def __init__(self, operand, cases, *, default, output_field):
        self.values = [value for value, _result in cases]
        super().__init__(operand, *[result for _value, result in cases], default, output_field=output_field)

    def as_sql(self, compiler, connection, **extra_context):
        (operand, params), *results, (default, default_params) = (
            compiler.compile(e) for e in self.get_source_expressions())
        sql, params = ["CASE", operand], list(params)
        for value, (result, result_params) in zip(self.values, results, strict=True):
            sql.append(f"WHEN %s THEN {result}")
            params += [value, *result_params]
        sql.append(f"ELSE {default} END")
        return f"({' '.join(sql)})", [*params, *default_params]


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
    ).alias(
        # Each rule below names the level beneath it once (Switch, LEAST over NULL): the SQL
        # repeats a level wherever it is named, and PostgreSQL parses, plans and computes every
        # copy, row by row.
        level_interval=Shared(Switch(F("schedule_level"), [
            (ElderRiskLevel.HIGH, _policy("high_days", DEFAULT_HIGH_DAYS)),
            (ElderRiskLevel.MEDIUM, _policy("medium_days", DEFAULT_MEDIUM_DAYS)),
        ], default=_policy("low_days", DEFAULT_LOW_DAYS), output_field=integer)),
    ).annotate(
        # Key targets: at most the cap (LEAST ignores the NULL the others get).
        interval_days=Shared(Least(
            F("level_interval"),
            Case(When(is_key_target=True, then=_policy("key_target_max_days", KEY_TARGET_MAX_DAYS)),
                 output_field=integer),
        )),
    ).alias(
        regular_due=Shared(Case(
            When(last_visit_at__isnull=True, then=registered_on),
            default=AddDays(TruncDate("last_visit_at"), F("interval_days")),
            output_field=date,
        )),
    ).annotate(
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
        # Overdue when the urgent deadline has passed; else by days until next_due: < 0 overdue,
        # 0 today, 1–6 this week, 7 or more later (width_bucket: NULL stays NULL → later).
        due_bucket=Shared(Case(
            When(urgent_due_by__lt=now, then=Value(DueBucket.OVERDUE)),
            default=Switch(
                Func(DaysBetween(F("next_due"), today_value), function="width_bucket",
                     template=f"%(function)s(%(expressions)s, ARRAY[0, 1, {WEEK_DAYS}])", output_field=integer),
                [(0, Value(DueBucket.OVERDUE)), (1, Value(DueBucket.TODAY)), (2, Value(DueBucket.WEEK))],
                default=Value(DueBucket.LATER), output_field=models.CharField()),
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


def schedule_counts(scheduled, *group_by: str) -> dict:
    """{value of `group_by`: {"total", "overdue", "due_today", "due_week"}} for an
    `annotate_schedule` queryset, in one query; with several fields, {field: {value: counts}},
    still in one query (GROUPING SETS: the schedule is computed once for all of them).

    The scheduled queryset becomes a subquery, so the buckets counted are exactly the
    annotation's, whatever the annotation is built from.
    """
    # The queryset's own database: the replica when the view reads from it (eldercare.replica).
    db = connections[scheduled.db]
    columns = [f"s.{db.ops.quote_name(field)}" for field in group_by]  # values() names them so
    inner = scheduled.order_by().values(*group_by, "due_bucket")
    sql, params = inner.query.sql_with_params()
    buckets = [DueBucket.OVERDUE, DueBucket.TODAY, DueBucket.WEEK]
    counts = {field: {} for field in group_by}
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)}, {', '.join(f'GROUPING({c})' for c in columns)}, COUNT(*), "
            + ", ".join("COUNT(*) FILTER (WHERE s.due_bucket = %s)" for _ in buckets)
            + f" FROM ({sql}) s GROUP BY GROUPING SETS ({', '.join(f'({c})' for c in columns)})",
            [*buckets, *params],
        )
        n = len(group_by)
        for row in cursor.fetchall():
            field = next(f for f, grouping in zip(group_by, row[n:2 * n], strict=True) if grouping == 0)
            counts[field][row[group_by.index(field)]] = dict(zip(COUNT_KEYS, row[2 * n:], strict=True))
    return counts[group_by[0]] if n == 1 else counts
