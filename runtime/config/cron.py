"""Five-field cron expressions, as Cloudflare's cron triggers take them (always in UTC).

``minute hour day-of-month month day-of-week`` with ``*``, lists (``1,15``), ranges (``1-5``),
steps (``*/15``, ``10-50/20``) and names (``JAN``-``DEC``, ``SUN``-``SAT``; day 7 is Sunday too),
plus the shorthands ``@hourly``, ``@daily``, ``@weekly``, ``@monthly`` and ``@yearly``. As in classic
cron, when both day fields are restricted a day matches if either does. A dependency for this
would weigh more than the sixty lines it replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bindings.digits import ASCII_DIGITS, whole_number

__all__ = ["CronSchedule", "parse_cron"]

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_MONTHS = {name: i for i, name in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_DAYS = {name: i for i, name in enumerate("SUN MON TUE WED THU FRI SAT".split())}
_SHORTHANDS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_SEARCH_DAYS = 366 * 5  # "30 2 29 2 *" (29 February) may be four years away
_LARGEST_NUMBER = 9999  # far past every field's range (and any useful step); longer numbers are not converted


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed cron expression: the allowed values of each field."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def matches(self, when: datetime) -> bool:
        """Whether the minute containing ``when`` (UTC) is scheduled."""
        return (
            when.minute in self.minutes and when.hour in self.hours and when.month in self.months and self._day_ok(when)
        )

    def next_after(self, timestamp: float) -> float | None:
        """The first scheduled minute strictly after ``timestamp`` (seconds since the epoch), or None."""
        start = datetime.fromtimestamp(timestamp, UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        hours, minutes = sorted(self.hours), sorted(self.minutes)
        for _ in range(_SEARCH_DAYS):
            if day.month in self.months and self._day_ok(day):
                for hour in hours:
                    for minute in minutes:
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate.timestamp()
            day += timedelta(days=1)
        return None

    def _day_ok(self, when: datetime) -> bool:
        day_ok = when.day in self.days
        weekday_ok = (when.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok


def parse_cron(text: object) -> CronSchedule:
    """Parse a cron expression; raises ValueError saying which field is wrong and why."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a cron expression must be a non-empty string")
    fields = _SHORTHANDS.get(text.strip().lower(), text).split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}")
    values = [_parse_field(field, *spec) for field, spec in zip(fields, _FIELDS, strict=True)]
    weekdays = frozenset(0 if day == 7 else day for day in values[4])
    return CronSchedule(text, values[0], values[1], values[2], values[3], weekdays, fields[2] != "*", fields[4] != "*")


def _parse_field(field: str, name: str, low: int, high: int) -> frozenset[int]:
    allowed: set[int] = set()
    for part in field.split(","):
        allowed.update(_parse_part(part, name, low, high))
    return frozenset(allowed)


def _parse_part(part: str, name: str, low: int, high: int) -> range:
    base, slash, step_text = part.partition("/")
    step = _number(step_text, f"{name} step") if slash else 1
    if step < 1:
        raise ValueError(f"{name} step must be at least 1, got {step_text!r}")
    if base == "*":
        start, end = low, high
    elif "-" in base:
        first, _, last = base.partition("-")
        start, end = _value(first, name, low, high), _value(last, name, low, high)
        if start > end:
            raise ValueError(f"{name} range {base!r} runs backwards")
    else:
        start = _value(base, name, low, high)
        end = high if slash else start
    return range(start, end + 1, step)


def _value(text: str, name: str, low: int, high: int) -> int:
    names = _MONTHS if name == "month" else _DAYS if name == "day of week" else {}
    value = names.get(text.upper())
    if value is None:
        value = _number(text, name)
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is out of range {low}-{high}")
    return value


def _number(text: str, name: str) -> int:
    # ASCII digits only: "²".isdigit() is True, but int("²") raises, and int("٣") is 3.
    if not ASCII_DIGITS.fullmatch(text):
        raise ValueError(f"{name} field has {text!r}; expected a number, a range, a list, * or a step")
    value = whole_number(text, 0, _LARGEST_NUMBER)
    if value is None:
        shown = text if len(text) <= 12 else f"{text[:8]}... ({len(text)} digits)"
        raise ValueError(f"{name} {shown} is out of range")
    return value
