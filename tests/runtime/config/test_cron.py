from __future__ import annotations

from datetime import UTC, datetime

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
        ("@daily", "2024-01-01T12:00:00", "2024-01-02T00:00:00"),
        ("0 0 1,15 * *", "2024-01-02T00:00:00", "2024-01-15T00:00:00"),
        ("0 12 * JAN,jul 7", "2024-01-01T13:00:00", "2024-01-07T12:00:00"),  # Sunday written as 7
        ("10-50/20 * * * *", "2024-01-01T00:10:00", "2024-01-01T00:30:00"),
        ("0 0 13 * FRI", "2024-01-01T00:00:00", "2024-01-05T00:00:00"),  # either day field matches
    ],
)
def test_next_after_finds_the_next_scheduled_minute(expression: str, after: str, expected: str) -> None:
    assert parse_cron(expression).next_after(ts(after)) == ts(expected)


def test_matches_checks_the_minute() -> None:
    schedule = parse_cron("5 * * * *")
    assert schedule.matches(datetime(2024, 1, 1, 3, 5, 59, tzinfo=UTC))
    assert not schedule.matches(datetime(2024, 1, 1, 3, 6, tzinfo=UTC))


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"),
        ("61 * * * *", "minute 61 is out of range 0-59"),
        ("* * * * MOO", "day of week field has 'MOO'; expected a number, a range, a list, * or a step"),
        ("*/0 * * * *", "minute step must be at least 1, got '0'"),
        ("5-1 * * * *", "minute range '5-1' runs backwards"),
        ("", "a cron expression must be a non-empty string"),
    ],
)
def test_parse_cron_says_which_field_is_wrong(expression: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_cron(expression)
    assert str(info.value) == message
