"""Cron expressions exactly as Cloudflare's cron triggers read them (always in UTC).

Five fields, ``minute hour day-of-month month day-of-week``, as documented at
https://developers.cloudflare.com/workers/configuration/cron-triggers/ (README "Cron triggers"):

* every field takes ``*``, lists (``1,15``), ranges (``1-5``, and ``FRI-MON`` or ``22-2``, which wrap
  around) and steps (``*/15``, ``10-50/20``, ``5/10`` meaning from 5 to the end);
* months are 1-12 or ``JAN``-``DEC``; weekdays are **1-7 with 1 = Sunday** or ``SUN``-``SAT`` (names in
  any case);
* the day of the month also takes ``L`` (the last day), ``L-3`` (three days before it), ``LW`` (the
  last weekday), ``L-3W`` and ``15W`` (the weekday nearest the 15th, within the month);
* the day of the week also takes ``L`` (Saturday), ``6L`` (the last Friday of the month) and ``2#1``
  (the first Monday);
* when both day fields are restricted, a day matches if either does.

``L``, ``W`` and ``#`` forms stand alone in their field. Unlike classic cron, 0 is not a weekday
and ``@daily``-style shorthands are refused: Cloudflare refuses them too, so a config that loads
here deploys.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bindings.digits import ASCII_DIGITS, whole_number

__all__ = ["CronSchedule", "parse_cron"]

_MONTHS = {name: i for i, name in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_WEEKDAYS = {name: i for i, name in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}
_SEARCH_DAYS = 366 * 9  # "0 0 29 2 *" may be eight years away (2096 -> 2104)
_LARGEST_NUMBER = 9999  # far past every field's range (and any useful step); longer numbers are not converted
_FIELDS = "expected 5 fields (minute hour day-of-month month day-of-week), got {}"


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]
    expected: str


_MINUTE = _Field("minute", 0, 59, {}, "a number, a range, a list, * or a step")
_HOUR = _Field("hour", 0, 23, {}, "a number, a range, a list, * or a step")
_DAY = _Field("day of month", 1, 31, {}, "a number, a range, a list, * or a step, L, LW, L-n or nW")
_MONTH = _Field("month", 1, 12, _MONTHS, "a number or a name (JAN-DEC), a range, a list, * or a step")
_WEEKDAY = _Field(
    "day of week",
    1,
    7,
    _WEEKDAYS,
    "a number (1-7, 1 = Sunday) or a name (SUN-SAT), a range, a list, * or a step, L, nL or n#k",
)


def _weekday(day: date) -> int:
    """Cloudflare's number for the weekday of ``day``: 1 = Sunday ... 7 = Saturday."""
    return day.isoweekday() % 7 + 1


def _is_weekday(day: date) -> bool:
    return day.isoweekday() <= 5


def _month_days(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(day: date, target: int) -> bool:
    """Whether ``day`` is the weekday nearest to day ``target`` of its month (``15W``), as Cloudflare decides it.

    A Saturday target moves to the Friday before (to the Monday after when it is the 1st); a Sunday
    target to the Monday after (to the Friday before when it is the last day).
    """
    number, iso = day.day, day.isoweekday()
    return (
        (iso <= 5 and number == target)
        or (iso == 1 and (number - 1 == target or (number == 3 and target == 1)))
        or (iso == 5 and (number + 1 == target or number + 2 == target == _month_days(day)))
    )


@dataclass(frozen=True, slots=True)
class _DayRule:
    """A day-of-month or day-of-week field: ``values`` (a set) or one of the L, W and # forms."""

    kind: str  # "days", "weekdays", "last", "last_weekday", "nearest_weekday", "last_of_week", "nth_of_week"
    values: frozenset[int] = frozenset()
    number: int = 0  # the offset, the target day, or the weekday, by kind
    nth: int = 0

    def matches(self, day: date) -> bool:
        kind = self.kind
        if kind == "days":
            return day.day in self.values
        if kind == "weekdays":
            return _weekday(day) in self.values
        if kind == "last":
            return day.day + self.number == _month_days(day)
        if kind == "last_weekday":
            return self._last_weekday(day)
        if kind == "nearest_weekday":
            return _nearest_weekday(day, self.number)
        if kind == "last_of_week":
            return _weekday(day) == self.number and day.day + 7 > _month_days(day)
        return _weekday(day) == self.number and (day.day - 1) // 7 + 1 == self.nth  # nth_of_week

    def _last_weekday(self, day: date) -> bool:
        last = _month_days(day)
        if self.number == 0:  # LW: the last day if it is a weekday, else the Friday before it
            return (_is_weekday(day) and day.day == last) or (day.isoweekday() == 5 and last - day.day < 3)
        # L-nW, as Cloudflare's parser reads it: the weekday nearest the nth day before the last,
        # where a Saturday target is answered by the Friday before and by the Monday after.
        shifted = day.day + self.number
        return (
            (_is_weekday(day) and shifted == last)
            or (day.isoweekday() == 1 and 0 <= shifted - last < 3)
            or (day.isoweekday() == 5 and shifted + 1 == last)
        )


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed cron expression."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    days: _DayRule | None  # None: "*"
    weekdays: _DayRule | None  # None: "*"

    def matches(self, when: datetime) -> bool:
        """Whether the minute containing ``when`` (UTC) is scheduled."""
        return when.minute in self.minutes and when.hour in self.hours and self.day_matches(when.date())

    def day_matches(self, day: date) -> bool:
        """Whether anything is scheduled on ``day`` (its month and either day field)."""
        if day.month not in self.months:
            return False
        days, weekdays = self.days, self.weekdays
        if days is None:
            return weekdays is None or weekdays.matches(day)
        if weekdays is None:
            return days.matches(day)
        return days.matches(day) or weekdays.matches(day)

    def next_after(self, timestamp: float) -> float | None:
        """The first scheduled minute strictly after ``timestamp`` (seconds since the epoch), or None if never."""
        start = datetime.fromtimestamp(timestamp, UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        hours, minutes = sorted(self.hours), sorted(self.minutes)
        for _ in range(_SEARCH_DAYS):
            if self.day_matches(day.date()):
                for hour in hours:
                    for minute in minutes:
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate.timestamp()
            day += timedelta(days=1)
        return None


def parse_cron(text: object) -> CronSchedule:
    """Parse a cron expression; raises ValueError saying which field is wrong and why."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a cron expression must be a non-empty string")
    stripped = text.strip()
    if stripped.startswith("@"):
        raise ValueError(
            f'"{stripped}" is not Cloudflare cron syntax; write the five fields, '
            'e.g. "0 0 * * *" for every day at 00:00'
        )
    fields = stripped.split()
    if len(fields) != 5:
        raise ValueError(_FIELDS.format(len(fields)))
    minute, hour, day, month, weekday = fields
    return CronSchedule(
        text,
        _values(minute, _MINUTE),
        _values(hour, _HOUR),
        _values(month, _MONTH),
        _day_of_month(day),
        _day_of_week(weekday),
    )


def _values(field: str, spec: _Field) -> frozenset[int]:
    if field == "*":
        return frozenset(range(spec.low, spec.high + 1))
    allowed: set[int] = set()
    for part in field.split(","):
        allowed.update(_part(part, spec))
    return frozenset(allowed)


def _part(part: str, spec: _Field) -> list[int]:
    base, slash, step_text = part.partition("/")
    step = 1
    if slash:
        step = _number(step_text, spec, f"{spec.name} step")
        if step < 1:
            raise ValueError(f"{spec.name} step must be at least 1, got {step_text!r}")
        if step > spec.high - spec.low:
            raise ValueError(f"{spec.name} step must be at most {spec.high - spec.low}, got {step_text!r}")
    if base == "*":
        if not slash:
            raise ValueError(f"{spec.name} field has * in a list; * stands alone, or as */step")
        start, end = spec.low, spec.high
    elif "-" in base:
        first, _, last = base.partition("-")
        start, end = _value(first, spec), _value(last, spec)
    else:
        start = _value(base, spec)
        end = spec.high if slash else start
    if start <= end:
        return list(range(start, end + 1, step))
    # A range that runs past the end wraps around: FRI-MON, 22-2.
    wrapped = list(range(start, spec.high + 1)) + list(range(spec.low, end + 1))
    return wrapped[::step]


def _value(text: str, spec: _Field) -> int:
    value = spec.names.get(text.upper()) if spec.names else None
    if value is None:
        value = _number(text, spec)
    if not spec.low <= value <= spec.high:
        hint = " (1 = Sunday ... 7 = Saturday; names SUN-SAT say it plainly)" if spec is _WEEKDAY else ""
        raise ValueError(f"{spec.name} {value} is out of range {spec.low}-{spec.high}{hint}")
    return value


def _number(text: str, spec: _Field, what: str = "") -> int:
    # ASCII digits only: "²".isdigit() is True, but int("²") raises, and int("٣") is 3.
    if not ASCII_DIGITS.fullmatch(text):
        raise ValueError(f"{spec.name} field has {text!r}; expected {spec.expected}")
    value = whole_number(text, 0, _LARGEST_NUMBER)
    if value is None:
        shown = text if len(text) <= 12 else f"{text[:8]}... ({len(text)} digits)"
        raise ValueError(f"{what or spec.name} {shown} is out of range")
    return value


def _day_of_month(field: str) -> _DayRule | None:
    if field == "*":
        return None
    upper = field.upper()
    if upper.startswith("L"):
        rest = upper[1:]
        if rest in ("", "W"):
            return _DayRule("last_weekday" if rest else "last")
        weekday = rest.endswith("W")
        offset_text = rest[1:-1] if weekday else rest[1:]
        if not rest.startswith("-") or not ASCII_DIGITS.fullmatch(offset_text):
            raise ValueError(f"day of month field has {field!r}; expected {_DAY.expected}")
        offset = whole_number(offset_text, 0, _LARGEST_NUMBER) or 0
        if not 1 <= offset <= 30:
            raise ValueError(f"day of month offset L-{offset} is out of range L-1 to L-30")
        return _DayRule("last_weekday" if weekday else "last", number=offset)
    if upper.endswith("W"):
        return _DayRule("nearest_weekday", number=_value(field[:-1], _DAY))
    return _DayRule("days", _values(field, _DAY))


def _day_of_week(field: str) -> _DayRule | None:
    if field == "*":
        return None
    upper = field.upper()
    if upper == "L":
        return _DayRule("weekdays", frozenset({7}))  # L alone is the last day of the week
    if upper.endswith("L") and "," not in field:
        return _DayRule("last_of_week", number=_value(field[:-1], _WEEKDAY))
    if "#" in field:
        day, _, nth_text = field.partition("#")
        if not ASCII_DIGITS.fullmatch(nth_text) or not 1 <= (whole_number(nth_text, 0, 9) or 0) <= 5:
            raise ValueError(f"day of week {field!r}: the number after # must be 1-5 (the nth such day of the month)")
        return _DayRule("nth_of_week", number=_value(day, _WEEKDAY), nth=int(nth_text))
    return _DayRule("weekdays", _values(field, _WEEKDAY))
