"""Working days (ngày làm việc) of Vietnamese state agencies: weekends and public holidays off, the days
the Government moves taken into account, from the calendar in ``calendar/vn_public_sector.yaml``.

Pure functions over a ``Calendar``; a date in a year the calendar does not hold is an error, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from models.errors import RuleViolation

CALENDAR_FILE = Path(__file__).parent / "calendar" / "vn_public_sector.yaml"


@dataclass(frozen=True)
class Calendar:
    years: frozenset[int]
    days_off: dict[date, str]
    working_saturdays: dict[date, str]

    def known(self, d: date, field: str = "date") -> None:
        if d.year not in self.years:
            held = ", ".join(str(y) for y in sorted(self.years))
            raise RuleViolation(field, "calendar.year-unknown",
                                f"the holiday calendar has no year {d.year} (it holds {held}); add it to {CALENDAR_FILE.name}")

    def is_working_day(self, d: date, field: str = "date") -> bool:
        self.known(d, field)
        if d in self.working_saturdays:
            return True
        return d.weekday() < 5 and d not in self.days_off


@lru_cache
def calendar(path: Path = CALENDAR_FILE) -> Calendar:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))["years"]
    off, saturdays = {}, {}
    for days in data.values():
        for entry in days.get("days_off", []):
            off[entry["date"]] = entry["name"]
        for entry in days.get("working_saturdays", []):
            saturdays[entry["date"]] = entry["name"]
    return Calendar(frozenset(int(y) for y in data), off, saturdays)


def add_working_days(start: date, n: int, cal: Calendar | None = None, field: str = "date") -> date:
    """The date ``n`` working days after ``start`` (before it when ``n`` < 0); 0 gives ``start`` itself."""
    cal = cal or calendar()
    cal.known(start, field)
    step = 1 if n >= 0 else -1
    d, left = start, abs(n)
    while left:
        d += timedelta(days=step)
        if cal.is_working_day(d, field):
            left -= 1
    return d


def working_days_between(start: date, end: date, cal: Calendar | None = None, field: str = "date") -> int:
    """Working days after ``start`` up to and including ``end`` (negative when ``end`` is earlier)."""
    cal = cal or calendar()
    if end < start:
        return -working_days_between(end, start, cal, field)
    cal.known(start, field)
    cal.known(end, field)
    return sum(cal.is_working_day(start + timedelta(days=i), field) for i in range(1, (end - start).days + 1))
