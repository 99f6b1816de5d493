"""Working days of Vietnamese state agencies: weekends, public holidays, and the days the Government moves."""

from __future__ import annotations

from datetime import date

import pytest

from models.errors import RuleViolation
from models.working_days import add_working_days, calendar, working_days_between


def test_a_plain_week_skips_the_weekend() -> None:
    assert add_working_days(date(2024, 3, 4), 5) == date(2024, 3, 11)  # Monday → next Monday
    assert add_working_days(date(2024, 3, 8), 1) == date(2024, 3, 11)  # Friday → Monday
    assert add_working_days(date(2024, 3, 11), -1) == date(2024, 3, 8)
    assert add_working_days(date(2024, 3, 9), 0) == date(2024, 3, 9)


def test_tet_2025_and_its_make_up_saturday() -> None:
    cal = calendar()
    # Friday 24/01/2025 is the last working day before Tết Ất Tỵ; work resumes Monday 03/02/2025.
    assert add_working_days(date(2025, 1, 24), 1) == date(2025, 2, 3)
    assert add_working_days(date(2025, 2, 3), -1) == date(2025, 1, 24)
    assert not any(cal.is_working_day(date(2025, 1, d)) for d in range(25, 32))
    # Saturday 08/02/2025 is worked in exchange for Monday 27/01/2025.
    assert cal.is_working_day(date(2025, 2, 8))
    assert add_working_days(date(2025, 2, 7), 1) == date(2025, 2, 8)
    # Five working days before Wednesday 05/02/2025 reach back across the whole holiday.
    assert add_working_days(date(2025, 2, 5), -5) == date(2025, 1, 22)


def test_the_may_holidays_of_2024_moved_a_monday() -> None:
    cal = calendar()
    assert not cal.is_working_day(date(2024, 4, 29))  # taken off, worked back on Saturday 04/5/2024
    assert cal.is_working_day(date(2024, 5, 4))
    assert add_working_days(date(2024, 4, 26), 1) == date(2024, 5, 2)


def test_counting_between_two_dates() -> None:
    assert working_days_between(date(2024, 12, 6), date(2024, 12, 13)) == 5
    assert working_days_between(date(2024, 12, 13), date(2024, 12, 6)) == -5
    assert working_days_between(date(2025, 1, 24), date(2025, 2, 3)) == 1


def test_a_year_the_calendar_does_not_hold_is_refused() -> None:
    with pytest.raises(RuleViolation) as exc:
        add_working_days(date(2026, 3, 2), 3, field="deadline")
    assert exc.value.field == "deadline" and exc.value.rule == "calendar.year-unknown"
    assert "2024, 2025" in exc.value.message
    with pytest.raises(RuleViolation):  # crossing into an unknown year is refused too, not guessed
        add_working_days(date(2025, 12, 30), 5)
