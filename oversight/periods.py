"""Reporting periods: a month, quarter or year, read up to an "as of" day.

A `Period` is what every figure is computed for. `start` is the first day of the calendar
month / quarter / year that contains `on`; figures counted *within* the period take events dated
from `start` to `on` inclusive (so the current month is month-to-date and a past month is whole
when `on` is its last day). Dates are local (Asia/Shanghai); datetime fields are compared with
local midnights, so a visit at 23:30 on the 31st belongs to that month.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

MONTH, QUARTER, YEAR = "month", "quarter", "year"
PERIOD_KINDS = {MONTH: _("月"), QUARTER: _("季度"), YEAR: _("年")}
TREND_MONTHS = 12


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A calendar month, quarter or year, counted up to the day `on` (inclusive)."""

    kind: str
    on: date

    @property
    def start(self) -> date:
        if self.kind == YEAR:
            return date(self.on.year, 1, 1)
        if self.kind == QUARTER:
            return date(self.on.year, (self.on.month - 1) // 3 * 3 + 1, 1)
        return month_start(self.on)

    @property
    def end(self) -> date:
        """The last day of the calendar period (may be after `on`)."""
        months = {MONTH: 1, QUARTER: 3, YEAR: 12}[self.kind]
        return add_months(self.start, months) - timedelta(days=1)

    @property
    def is_closed(self) -> bool:
        """The period has ended (its last day is before today) and is read whole."""
        return self.on >= self.end and self.end < timezone.localdate()

    def since(self) -> datetime:
        """Local midnight at the start of the period (for datetime fields)."""
        return local_midnight(self.start)

    def until(self) -> datetime:
        """Local midnight after `on` (exclusive bound for datetime fields)."""
        return local_midnight(self.on + timedelta(days=1))

    @property
    def label(self) -> str:
        if self.kind == YEAR:
            text = f"{self.start.year}年"
        elif self.kind == QUARTER:
            text = f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        else:
            text = f"{self.start.year}年{self.start.month}月"
        if self.on < self.end:
            text += f"（截至{self.on.month}月{self.on.day}日）"
        return text

    def query(self) -> str:
        """The URL parameters that select this period (shared links carry them)."""
        return f"on={self.on.isoformat()}&period={self.kind}"

    def trend_months(self) -> list["Period"]:
        """The 12 monthly periods ending with the month of `on` (the last one month-to-date)."""
        first = add_months(self.on, 1 - TREND_MONTHS)
        months = []
        for n in range(TREND_MONTHS):
            start = add_months(first, n)
            end = min(add_months(start, 1) - timedelta(days=1), self.on)
            months.append(Period(MONTH, end))
        return months

    def trend_window(self) -> "Window":
        return Window(self.trend_months()[0].start, self.on)


@dataclass(frozen=True)
class Window:
    """Any span of days, for the 12-month trends (same bounds logic as a Period)."""

    start: date
    on: date

    def since(self) -> datetime:
        return local_midnight(self.start)

    def until(self) -> datetime:
        return local_midnight(self.on + timedelta(days=1))


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class PeriodError(ValueError):
    """A period asked for in the URL that cannot be shown (the message says why, in Chinese)."""


def period_from(params, today: date | None = None) -> Period:
    """The period in the request's GET parameters (`on`, `period`); this month to date by default."""
    today = today or timezone.localdate()
    kind = params.get("period") or MONTH
    if kind not in PERIOD_KINDS:
        raise PeriodError(_("统计周期只能是月、季度或年。"))
    raw = params.get("on") or ""
    try:
        on = parse_date(raw) if raw else today
    except ValueError:
        on = None
    if on is None:
        raise PeriodError(_("日期“%(value)s”无法识别，请按 2026-03-31 的格式选择日期。") % {"value": raw})
    if on > today:
        raise PeriodError(_("截至日期不能晚于今天（%(today)s）。") % {"today": today.isoformat()})
    return Period(kind, on)
