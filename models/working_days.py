"""Working days (ngày làm việc) of Vietnamese state agencies (cán bộ, công chức, viên chức).

A day is off when it is a Saturday or a Sunday, a public holiday of the Labour Code (Bộ luật Lao động 2019,
Điều 112) or its compensatory day (nghỉ bù), as the ``holidays`` package computes them for any year it covers,
or a weekday that a public-sector announcement (thông báo nghỉ lễ, Tết; hoán đổi ngày làm việc) takes off; a
Saturday such an announcement makes a working day (làm bù) is worked. Announcements are data: vanban's own in
``calendar/vn_public_sector.yaml``, the agency's in its data directory (``Settings.calendar_path``, written by
``announce``), joined.

Pure functions over a ``Calendar``; a year the package does not cover is an error, never a guess.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays
import yaml
from sqlalchemy.engine import Engine

from models.audit import Action, record
from models.config import get_settings, today
from models.db import session_scope
from models.errors import RuleViolation
from models.legal_text import clean_text, parse_date, short_date
from models.yaml_files import load_yaml, read_file

PACKAGED_FILE = Path(__file__).parent / "calendar" / "vn_public_sector.yaml"
FIRST_YEAR, LAST_YEAR = holidays.VN.start_year, holidays.VN.end_year
WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
PACKAGE = f"holidays {holidays.__version__}"  # the source of what the package computes
# The package names a swapped day off "Ngày nghỉ (thay cho ngày DD/MM/YYYY)" in Vietnamese.
SWAP_NAME = re.compile(r"Ngày nghỉ \(thay cho ngày (\d{2}/\d{2}/\d{4})\)")
ANNOUNCEMENT_KEYS = ("year", "source", "days_off", "working_saturdays", "recorded_by", "recorded_on")
LISTS = ("days_off", "working_saturdays")
HEADER = ("# Public-sector announcements of days off and moved working days recorded by this agency\n"
          "# (vanban calendar announce); joined with vanban's own, models/calendar/vn_public_sector.yaml.\n")


class Reason(str, Enum):
    """Why a day is off, or why a Saturday is worked."""

    HOLIDAY = "holiday"  # ngày lễ, Tết of the Labour Code
    OBSERVED = "observed"  # nghỉ bù: a holiday on a weekend, taken on a working day
    SWAP = "swap"  # hoán đổi ngày làm việc the holidays package knows from the Government's dispatches
    ANNOUNCED = "announced"  # a public-sector announcement recorded in vanban


@dataclass(frozen=True)
class Entry:
    day: date
    name: str
    reason: Reason
    source: str


@dataclass(frozen=True)
class Announcement:
    """One public-sector announcement (thông báo) of a year: weekdays taken off, Saturdays worked instead."""

    year: int
    source: str
    days_off: tuple[tuple[date, str], ...]
    working_saturdays: tuple[tuple[date, str], ...]
    origin: str  # the file it comes from, for messages


@dataclass(frozen=True)
class Year:
    year: int
    days_off: dict[date, tuple[Entry, ...]]  # beyond the weekend rule, each with its reasons
    working_saturdays: dict[date, tuple[Entry, ...]]
    announcements: tuple[Announcement, ...]


def _day(d: date) -> str:
    return f"{WEEKDAYS[d.weekday()]} {short_date(d)}"


@lru_cache(maxsize=None)
def _statutory(year: int) -> tuple[dict[date, tuple[Entry, ...]], dict[date, tuple[Entry, ...]]]:
    """The package's days off of ``year`` (holidays, compensatory days, known swaps) and its make-up Saturdays."""
    # The next year too: a swap's Saturday can fall in the year before its day off (27/12/2014 for 02/01/2015).
    found = holidays.country_holidays("VN", years=(year, year + 1), language="vi")
    plain = holidays.country_holidays("VN", years=year, observed=False, language="vi")
    off: dict[date, tuple[Entry, ...]] = {}
    made_up: dict[date, str] = {}
    for d, name in found.items():
        swap = SWAP_NAME.fullmatch(name)
        if swap:
            made_up[parse_date(swap[1])] = f"Làm bù cho {_day(d)}"
        if d.year == year:
            reason = Reason.SWAP if swap else Reason.HOLIDAY if d in plain else Reason.OBSERVED
            off[d] = (Entry(d, name, reason, PACKAGE),)
    saturdays = {d: (Entry(d, made_up.get(d, "Làm bù"), Reason.SWAP, PACKAGE),)
                 for d in sorted(found.weekend_workdays) if d.year == year}
    return off, saturdays


def _check_covered(year: int, field: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise RuleViolation(field, "calendar.year-unknown",
                            f"the holiday calendar has no year {year} (the holidays package covers "
                            f"{FIRST_YEAR}–{LAST_YEAR})")


def _check(new: Announcement, recorded: Iterable[Announcement]) -> None:
    """Refuse an announcement that breaks the rules on its own or clashes with one recorded for its year."""
    _check_covered(new.year, "year")
    holiday_off, _ = _statutory(new.year)
    seen: dict[date, tuple[str, str]] = {}  # date → (list, where it is listed)
    for earlier in (a for a in recorded if a.year == new.year):
        for key in LISTS:
            for i, (d, name) in enumerate(getattr(earlier, key)):
                seen[d] = (key, f"'{name}' ({key}[{i}] of {earlier.origin}, {earlier.source})")
    for key in LISTS:
        for i, (d, name) in enumerate(getattr(new, key)):
            field, what = f"{key}[{i}]", f"{_day(d)} ('{name}') in {new.origin}"
            if d.year != new.year:
                raise RuleViolation(field, "calendar.date-outside-year", f"{what} is not in {new.year}, the announcement's year")
            if key == "days_off" and d.weekday() >= 5:
                raise RuleViolation(field, "calendar.day-off-on-weekend",
                                    f"{what} is a weekend day: an announcement takes only weekdays off")
            if key == "working_saturdays" and d.weekday() != 5:
                raise RuleViolation(field, "calendar.make-up-not-saturday",
                                    f"{what} is not a Saturday: a make-up working day is a Saturday")
            if key == "working_saturdays" and d in holiday_off:
                raise RuleViolation(field, "calendar.make-up-on-holiday",
                                    f"{what} is a public holiday ({holiday_off[d][0].name}): it cannot be worked")
            if d in seen:
                earlier_key, where = seen[d]
                rule = "calendar.make-up-twice" if key == earlier_key == "working_saturdays" else "calendar.duplicate-date"
                raise RuleViolation(field, rule, f"{what} is already listed as {where}")
            seen[d] = (key, f"'{name}' ({field} of {new.origin})")


class Calendar:
    """Working days for every year the holidays package covers, with the recorded announcements joined in.

    Built from announcements in the order they were recorded; each is checked against the ones before it."""

    def __init__(self, announcements: Iterable[Announcement]):
        recorded: list[Announcement] = []
        for a in announcements:
            _check(a, recorded)
            recorded.append(a)
        self.announcements = tuple(recorded)
        self._years: dict[int, Year] = {}

    def known(self, d: date, field: str = "date") -> None:
        _check_covered(d.year, field)

    def announced(self, year: int) -> bool:
        return any(a.year == year for a in self.announcements)

    def year(self, year: int, field: str = "date") -> Year:
        """Every day off of ``year`` beyond the weekends, with its reasons, and its make-up Saturdays."""
        if year not in self._years:
            _check_covered(year, field)
            holiday_off, package_saturdays = _statutory(year)
            off, saturdays = dict(holiday_off), dict(package_saturdays)
            own = tuple(a for a in self.announcements if a.year == year)
            for a in own:
                for target, entries in ((off, a.days_off), (saturdays, a.working_saturdays)):
                    for d, name in entries:
                        target[d] = (*target.get(d, ()), Entry(d, name, Reason.ANNOUNCED, a.source))
            self._years[year] = Year(year, dict(sorted(off.items())), dict(sorted(saturdays.items())), own)
        return self._years[year]

    def is_working_day(self, d: date, field: str = "date") -> bool:
        year = self.year(d.year, field)
        if d in year.working_saturdays:
            return True
        return d.weekday() < 5 and d not in year.days_off


def read_announcement(raw: Any, origin: str) -> Announcement:
    """An announcement from its YAML mapping; each broken field named."""
    def refuse(field: str, message: str) -> RuleViolation:
        return RuleViolation(field, "calendar.announcement-format", f"{origin}: {message}")

    if not isinstance(raw, dict):
        raise refuse("announcement", "expected a mapping with year, source, days_off and working_saturdays")
    for key in raw:
        if key not in ANNOUNCEMENT_KEYS:
            raise refuse(str(key), f"unknown key '{key}' (an announcement has {', '.join(ANNOUNCEMENT_KEYS[:4])})")
    year = raw.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise refuse("year", f"expected the year as a number, got {year!r}")
    source = clean_text(raw.get("source") or "", "source")
    if not source:
        raise refuse("source", "name the announcement (its number and date, who issued it)")
    lists: dict[str, tuple[tuple[date, str], ...]] = {}
    for key in LISTS:
        items = raw.get(key) or []
        if not isinstance(items, list):
            raise refuse(key, "expected a list of {date, name}")
        entries = []
        for i, item in enumerate(items):
            field = f"{key}[{i}]"
            if not isinstance(item, dict) or set(item) != {"date", "name"}:
                raise refuse(field, "expected {date: DD/MM/YYYY, name: …}")
            name = clean_text(str(item["name"] or ""), f"{field}.name")
            if not name:
                raise refuse(f"{field}.name", "say why the day is off or worked")
            entries.append((parse_date(item["date"], f"{field}.date"), name))
        lists[key] = tuple(entries)
    if not any(lists.values()):
        raise refuse("days_off", "the announcement lists no day off and no working Saturday")
    return Announcement(year, source, lists["days_off"], lists["working_saturdays"], origin)


def _stored(content: bytes, origin: str) -> list[dict[str, Any]]:
    """The raw announcements of a calendar file (``announcements:`` list)."""
    data = load_yaml(content, origin) or {}
    items = data.get("announcements", []) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RuleViolation("announcements", "calendar.announcement-format", f"{origin}: expected a list 'announcements'")
    return items


@lru_cache(maxsize=1)
def _packaged() -> tuple[Announcement, ...]:
    return tuple(read_announcement(raw, PACKAGED_FILE.name)
                 for raw in _stored(PACKAGED_FILE.read_bytes(), PACKAGED_FILE.name))


@lru_cache(maxsize=4)
def _joined(agency_file: bytes, origin: str) -> Calendar:
    return Calendar([*_packaged(), *(read_announcement(raw, origin) for raw in _stored(agency_file, origin))])


def _agency_file(path: Path) -> bytes:
    return read_file(path) if path.exists() else b""


def calendar() -> Calendar:
    """The calendar as recorded now: keyed on the agency file's text, so an announcement just recorded counts."""
    path = get_settings().calendar_path
    return _joined(_agency_file(path), path.name)


def announcement_warnings(*days: date) -> list[str]:
    """One line per year of ``days`` for which no public-sector announcement is recorded: its working days
    are counted from the Labour Code's holidays (and the swaps the package knows) alone."""
    cal = calendar()
    years = sorted({d.year for d in days if FIRST_YEAR <= d.year <= LAST_YEAR})
    return [f"no public-sector announcement of days off is recorded for {y}: working days are counted from the "
            f"Labour Code holidays only; record it with 'vanban calendar announce FILE --as CODE'"
            for y in years if not cal.announced(y)]


def describe_year(year: int) -> dict[str, Any]:
    """What the calendar counts as days off in ``year`` and why, its make-up Saturdays, and its announcements."""
    cal = calendar()
    y = cal.year(year, "year")
    days = [date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]

    def listed(entries: dict[date, tuple[Entry, ...]]) -> list[dict[str, Any]]:
        return [{"date": d.isoformat(), "day": _day(d),
                 "reasons": [{"reason": e.reason.value, "name": e.name, "source": e.source} for e in found]}
                for d, found in entries.items()]

    warnings = announcement_warnings(date(year, 1, 1))
    return {
        "year": year,
        "announced": cal.announced(year),
        "announcements": [{"source": a.source, "file": a.origin} for a in y.announcements],
        "weekend": {"rule": "thứ Bảy và Chủ nhật (Saturdays and Sundays), except make-up Saturdays",
                    "days": sum(d.weekday() >= 5 for d in days), "make_up_saturdays": len(y.working_saturdays)},
        "days_off": listed(y.days_off),
        "working_saturdays": listed(y.working_saturdays),
        "working_days": sum(cal.is_working_day(d) for d in days),
        "warning": warnings[0] if warnings else None,
    }


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def announce(source_file: Path, actor: str, engine: Engine | None = None) -> Announcement:
    """Record a public-sector announcement from a YAML file (year, source, days_off, working_saturdays).

    It is checked in full against everything recorded for its year first; then, in one transaction, the audit
    entry (``Action.CALENDAR_ANNOUNCED``) and the agency's calendar file, replaced atomically. Should the commit
    fail, the file is put back as it was."""
    raw_bytes = read_file(source_file)
    new = read_announcement(load_yaml(raw_bytes, source_file.name), source_file.name)
    target = get_settings().calendar_path
    before = _agency_file(target)
    stored = _stored(before, target.name)
    Calendar([*_packaged(), *(read_announcement(raw, target.name) for raw in stored), new])
    entry = {"year": new.year, "source": new.source,
             **{key: [{"date": d, "name": name} for d, name in getattr(new, key)] for key in LISTS},
             "recorded_by": actor, "recorded_on": today()}
    text = HEADER + yaml.safe_dump({"announcements": [*stored, entry]}, allow_unicode=True, sort_keys=False)
    written = False
    try:
        with session_scope(engine) as session:
            record(session, Action.CALENDAR_ANNOUNCED, actor=actor, details={
                "year": new.year, "source": new.source, "file": source_file.name,
                "file_sha256": hashlib.sha256(raw_bytes).hexdigest(), "recorded_in": str(target),
                **{key: [d.isoformat() for d, _ in getattr(new, key)] for key in LISTS}})
            _write_atomically(target, text)
            written = True
    except BaseException:
        if written:
            if before:
                _write_atomically(target, before.decode("utf-8"))
            else:
                target.unlink(missing_ok=True)
        raise
    return new


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
