"""Cron expressions as Cloudflare reads them: weekdays 1-7 from Sunday, L, W and #, wrapping ranges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from runtime.config.cron import parse_cron


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/15 * * * *", "2024-01-01T00:01:00", "2024-01-01T00:15:00"),
        ("0 9 * * MON-FRI", "2024-01-05T09:00:00", "2024-01-08T09:00:00"),  # Friday 09:00 -> Monday
        ("30 2 29 2 *", "2024-03-01T00:00:00", "2028-02-29T02:30:00"),
        ("0 0 1,15 * *", "2024-01-02T00:00:00", "2024-01-15T00:00:00"),
        ("0 12 * JAN,jul 7", "2024-01-01T13:00:00", "2024-01-06T12:00:00"),  # 7 is Saturday
        ("10-50/20 * * * *", "2024-01-01T00:10:00", "2024-01-01T00:30:00"),
        ("0 0 13 * FRI", "2024-01-01T00:00:00", "2024-01-05T00:00:00"),  # either day field matches
        # Cloudflare's own examples (developers.cloudflare.com/workers/configuration/cron-triggers/)
        ("0 17 * * 1", "2024-01-01T00:00:00", "2024-01-07T17:00:00"),  # 1 is Sunday, not Monday
        ("0 17 * * sun", "2024-01-01T00:00:00", "2024-01-07T17:00:00"),
        ("10 7 * * 2-6", "2024-01-06T08:00:00", "2024-01-08T07:10:00"),  # Mon-Fri: Saturday -> Monday
        ("0 18 * * 6L", "2024-01-01T00:00:00", "2024-01-26T18:00:00"),  # the last Friday of January
        ("0 18 * * friL", "2024-02-01T00:00:00", "2024-02-23T18:00:00"),
        ("59 23 LW * *", "2024-03-01T00:00:00", "2024-03-29T23:59:00"),  # March 2024 ends on a Sunday
        ("59 23 LW * *", "2024-04-01T00:00:00", "2024-04-30T23:59:00"),  # April 2024 ends on a Tuesday
        ("0 0 L * *", "2024-02-01T00:00:00", "2024-02-29T00:00:00"),
        ("0 0 L-2 * *", "2024-04-01T00:00:00", "2024-04-28T00:00:00"),
        ("0 0 15W * *", "2024-06-01T00:00:00", "2024-06-14T00:00:00"),  # the 15th is a Saturday: Friday
        ("0 0 15W * *", "2024-09-01T00:00:00", "2024-09-16T00:00:00"),  # the 15th is a Sunday: Monday
        ("0 0 1W * *", "2024-06-01T00:00:00", "2024-06-03T00:00:00"),  # the 1st is a Saturday: Monday 3rd
        ("0 0 * * 2#1", "2024-01-02T00:00:00", "2024-02-05T00:00:00"),  # the first Monday
        ("0 0 * * MON#3", "2024-01-01T00:00:00", "2024-01-15T00:00:00"),
        ("0 0 * * L", "2024-01-01T00:00:00", "2024-01-06T00:00:00"),  # L alone: Saturday
        ("0 0 * * FRI-MON", "2024-01-02T00:00:00", "2024-01-05T00:00:00"),  # a range that wraps
        ("0 22-2/2 * * *", "2024-01-01T03:00:00", "2024-01-01T22:00:00"),
        ("0 0 * NOV-FEB *", "2024-03-01T00:00:00", "2024-11-01T00:00:00"),
        ("5/20 * * * *", "2024-01-01T00:06:00", "2024-01-01T00:25:00"),
    ],
)
def test_next_after_finds_the_next_scheduled_minute(expression: str, after: str, expected: str) -> None:
    assert parse_cron(expression).next_after(ts(after)) == ts(expected)


def _days(expression: str, year: int, month: int) -> list[int]:
    schedule = parse_cron(expression)
    day, found = date(year, month, 1), []
    while day.month == month:
        if schedule.day_matches(day):
            found.append(day.day)
        day += timedelta(days=1)
    return found


@pytest.mark.parametrize(
    ("expression", "year", "month", "days"),
    [
        ("0 0 * * 1", 2024, 9, [1, 8, 15, 22, 29]),  # every Sunday of September 2024
        ("0 0 * * 7", 2024, 9, [7, 14, 21, 28]),  # every Saturday
        ("0 0 LW * *", 2024, 8, [30]),  # August 2024 ends on a Saturday: Friday the 30th
        ("0 0 LW * *", 2024, 6, [28]),  # June 2024 ends on a Sunday: Friday the 28th
        ("0 0 31W * *", 2024, 3, [29]),  # the 31st is a Sunday and the month's last day: Friday
        ("0 0 * * 1L", 2024, 9, [29]),
        ("0 0 * * 3#5", 2024, 10, [29]),  # the fifth Tuesday
        ("0 0 * * 3#5", 2024, 9, []),  # September 2024 has four
        ("0 0 1 * 1", 2024, 9, [1, 8, 15, 22, 29]),  # the 1st or any Sunday
        ("0 0 1 * 1", 2024, 10, [1, 6, 13, 20, 27]),
    ],
)
def test_the_day_fields_select_the_days_cloudflare_selects(
    expression: str, year: int, month: int, days: list[int]
) -> None:
    assert _days(expression, year, month) == days


def test_matches_checks_the_minute() -> None:
    schedule = parse_cron("5 * * * *")
    assert schedule.matches(datetime(2024, 1, 1, 3, 5, 59, tzinfo=UTC))
    assert not schedule.matches(datetime(2024, 1, 1, 3, 6, tzinfo=UTC))


def test_a_day_that_never_comes_gives_no_next_run() -> None:
    assert parse_cron("0 0 31 11 *").next_after(ts("2024-01-01T00:00:00")) is None


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("61 * * * *", "minute 61 is out of range 0-59"),
        (
            "* * * * MOO",
            "day of week field has 'MOO'; expected a number (1-7, 1 = Sunday) or a name (SUN-SAT), a range, a list, "
            "* or a step, L, nL or n#k",
        ),
        ("*/0 * * * *", "minute step must be at least 1, got '0'"),
        ("*/60 * * * *", "minute step must be at most 59, got '60'"),
        ("", "a cron expression must be a non-empty string"),
        (
            "0 0 * * 0",
            "day of week 0 is out of range 1-7 (1 = Sunday ... 7 = Saturday; names SUN-SAT say it plainly)",
        ),
        (
            "@daily",
            '"@daily" is not Cloudflare cron syntax; write the five fields, e.g. "0 0 * * *" for every day at 00:00',
        ),
        ("0 0 * * 2#6", "day of week '2#6': the number after # must be 1-5 (the nth such day of the month)"),
        ("0 0 L-31 * *", "day of month offset L-31 is out of range L-1 to L-30"),
        (
            "0 0 1,L * *",
            "day of month field has 'L'; expected a number, a range, a list, * or a step, L, LW, L-n or nW",
        ),
        ("0 0 32W * *", "day of month 32 is out of range 1-31"),
        ("*,5 * * * *", "minute field has * in a list; * stands alone, or as */step"),
    ],
)
def test_parse_cron_says_which_field_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_cron(expression)
    assert str(info.value) == message
