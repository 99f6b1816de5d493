"""Working days of Vietnamese state agencies: weekends, public holidays (the holidays package), and the days the
public-sector announcements move."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from models.assignments import Notice, NoticeKind, notices_due
from models.audit import Action, AuditEntry
from models.config import get_settings, today
from models.db import session_scope
from models.errors import RuleViolation
from models.working_days import (Reason, add_working_days, announce, announcement_warnings, calendar, describe_year,
                                 working_days_between)

DATA = Path(__file__).parent / "data"


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


def test_2024_and_2025_count_exactly_as_the_former_calendar_file() -> None:
    """The former calendar (tests/data, copied verbatim) against the holidays package joined with the
    announcements now shipped: the same weekdays off, the same make-up Saturdays, every day alike."""
    former = yaml.safe_load((DATA / "vn_public_sector_2024_2025.yaml").read_text(encoding="utf-8"))["years"]
    cal = calendar()
    for year, listed in former.items():
        off = {e["date"] for e in listed["days_off"]}
        saturdays = {e["date"] for e in listed["working_saturdays"]}
        counted = cal.year(year)
        assert {d for d in counted.days_off if d.weekday() < 5} == off
        assert set(counted.working_saturdays) == saturdays
        day = date(year, 1, 1)
        while day.year == year:
            assert cal.is_working_day(day) == (day in saturdays or (day.weekday() < 5 and day not in off)), day
            day += timedelta(days=1)
        assert announcement_warnings(date(year, 6, 1)) == []


def test_a_year_the_holidays_package_does_not_cover_is_refused() -> None:
    with pytest.raises(RuleViolation) as exc:
        add_working_days(date(2101, 3, 2), 3, field="deadline")
    assert exc.value.field == "deadline" and exc.value.rule == "calendar.year-unknown"
    assert "no year 2101 (the holidays package covers 1901–2100)" in exc.value.message
    with pytest.raises(RuleViolation):  # crossing into an unknown year is refused too, not guessed
        add_working_days(date(2100, 12, 30), 5)


def test_a_deadline_across_tet_2026_from_the_holidays_alone() -> None:
    cal = calendar()
    # Tết Bính Ngọ: 17/02/2026; Giao thừa (Monday 16/02) to Mùng bốn (Friday 20/02) are off by the Labour Code.
    tet = cal.year(2026).days_off
    assert [d.day for d in tet if d.month == 2] == [16, 17, 18, 19, 20]
    assert {e.reason for d in tet if d.month == 2 for e in tet[d]} == {Reason.HOLIDAY}
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    # A report due Tuesday 24/02/2026: the five-day reminder falls before Tết, the one-day on the Monday after it.
    assert notices_due(date(2026, 2, 24), date(2026, 2, 10), (5, 1), set()) == [
        Notice(NoticeKind.REMINDER, date(2026, 2, 10), 5)]
    assert notices_due(date(2026, 2, 24), date(2026, 2, 23), (5, 1), set()) == [
        Notice(NoticeKind.REMINDER, date(2026, 2, 23), 1)]
    assert not cal.announced(2026)
    [warning] = announcement_warnings(date(2026, 2, 24), date(2026, 1, 5))
    assert warning.startswith("no public-sector announcement of days off is recorded for 2026")
    # Giỗ Tổ falls on Sunday 26/4/2026: made up on Monday 27/4; 24/11 is a holiday from 2026.
    assert [e.reason for e in tet[date(2026, 4, 27)]] == [Reason.OBSERVED]
    assert not cal.is_working_day(date(2026, 11, 24))


TEST_TET_2026 = """\
# TEST DATA, not the Government's 2026 announcement: a swap shaped like the usual Tết arrangements.
year: 2026
source: "Thông báo thử nghiệm (test data)"
days_off:
  - {date: 13/02/2026, name: "Nghỉ Tết (hoán đổi với thứ Bảy 28/02/2026)"}
working_saturdays:
  - {date: 28/02/2026, name: "Làm bù cho thứ Sáu 13/02/2026"}
"""


def announcements_audited(engine: Engine) -> list[AuditEntry]:
    with session_scope(engine) as session:
        return [e for e in session.exec(select(AuditEntry)).all() if e.action == Action.CALENDAR_ANNOUNCED.value]


def test_an_announcement_moves_the_deadline_and_is_audited(engine: Engine, tmp_path: Path) -> None:
    spec = tmp_path / "tet-2026.yaml"
    spec.write_text(TEST_TET_2026, encoding="utf-8")
    calendar().year(2026)  # warm the cache: the announcement must still count in this process
    announce(spec, "vt-ubnd", engine)
    cal = calendar()
    assert cal.announced(2026) and announcement_warnings(date(2026, 2, 24)) == []
    assert not cal.is_working_day(date(2026, 2, 13)) and cal.is_working_day(date(2026, 2, 28))
    assert add_working_days(date(2026, 2, 12), 1) == date(2026, 2, 23)
    assert notices_due(date(2026, 2, 24), date(2026, 2, 10), (5, 1), set()) == [
        Notice(NoticeKind.REMINDER, date(2026, 2, 9), 5)]
    stored = yaml.safe_load(get_settings().calendar_path.read_text(encoding="utf-8"))["announcements"]
    assert stored == [{"year": 2026, "source": "Thông báo thử nghiệm (test data)",
                       "days_off": [{"date": date(2026, 2, 13), "name": "Nghỉ Tết (hoán đổi với thứ Bảy 28/02/2026)"}],
                       "working_saturdays": [{"date": date(2026, 2, 28), "name": "Làm bù cho thứ Sáu 13/02/2026"}],
                       "recorded_by": "vt-ubnd", "recorded_on": today()}]
    [entry] = announcements_audited(engine)
    details = json.loads(entry.details)
    assert entry.actor == "vt-ubnd"
    assert details["year"] == 2026 and details["days_off"] == ["2026-02-13"]
    assert details["working_saturdays"] == ["2026-02-28"] and details["file"] == "tet-2026.yaml"
    assert details["file_sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest()
    described = describe_year(2026)
    assert described["announced"] and described["warning"] is None
    [friday] = [d for d in described["days_off"] if d["date"] == "2026-02-13"]
    assert friday["day"] == "thứ Sáu 13/02/2026" and friday["reasons"] == [
        {"reason": "announced", "name": "Nghỉ Tết (hoán đổi với thứ Bảy 28/02/2026)",
         "source": "Thông báo thử nghiệm (test data)"}]


def test_what_2026_counts_is_described_with_its_reasons() -> None:
    described = describe_year(2026)
    assert not described["announced"] and described["announcements"] == []
    assert "no public-sector announcement of days off is recorded for 2026" in described["warning"]
    reasons = {d["date"]: [r["reason"] for r in d["reasons"]] for d in described["days_off"]}
    assert reasons["2026-02-17"] == ["holiday"] and reasons["2026-04-27"] == ["observed"]
    assert reasons["2026-08-31"] == ["swap"]  # the Government's Quốc khánh swap, known to the package
    assert [(d["date"], d["reasons"][0]["name"]) for d in described["working_saturdays"]] == [
        ("2026-08-22", "Làm bù cho thứ Hai 31/8/2026")]
    assert described["weekend"]["days"] == 104 and described["weekend"]["make_up_saturdays"] == 1
    # 365 days, 104 weekend days, 12 holidays and swaps on weekdays (Giỗ Tổ on a Sunday), one make-up Saturday.
    assert described["working_days"] == 365 - 104 - 13 + 1


BAD = {
    "make-up Saturday twice": ("""\
year: 2026
source: test data
days_off:
  - {date: 05/3/2026, name: a}
  - {date: 06/3/2026, name: b}
working_saturdays:
  - {date: 14/3/2026, name: c}
  - {date: 14/3/2026, name: d}
""", "working_saturdays[1]", "calendar.make-up-twice"),
    "make-up day not a Saturday": ("""\
year: 2026
source: test data
days_off: [{date: 06/3/2026, name: a}]
working_saturdays: [{date: 13/3/2026, name: b}]
""", "working_saturdays[0]", "calendar.make-up-not-saturday"),
    "day off on a weekend": ("""\
year: 2026
source: test data
days_off: [{date: 21/02/2026, name: a}]
""", "days_off[0]", "calendar.day-off-on-weekend"),
    "duplicate date": ("""\
year: 2026
source: test data
days_off: [{date: 06/3/2026, name: a}, {date: 2026-03-06, name: b}]
""", "days_off[1]", "calendar.duplicate-date"),
    "date in another year": ("""\
year: 2026
source: test data
days_off: [{date: 02/01/2027, name: a}]
""", "days_off[0]", "calendar.date-outside-year"),
    "make-up Saturday on a holiday": ("""\
year: 2027
source: test data
working_saturdays: [{date: 01/5/2027, name: a}]
""", "working_saturdays[0]", "calendar.make-up-on-holiday"),
    "already recorded in vanban's own file": ("""\
year: 2025
source: test data
days_off: [{date: 02/5/2025, name: a}]
""", "days_off[0]", "calendar.duplicate-date"),
    "a mistyped key": ("""\
year: 2026
source: test data
day_off: [{date: 06/3/2026, name: a}]
""", "day_off", "calendar.announcement-format"),
    "30/02": ("""\
year: 2026
source: test data
days_off: [{date: 30/02/2026, name: a}]
""", "days_off[0].date", "date.exists"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_announcement_is_refused_naming_the_entry_and_nothing_is_written(
        engine: Engine, tmp_path: Path, case: str) -> None:
    first = tmp_path / "tet-2026.yaml"
    first.write_text(TEST_TET_2026, encoding="utf-8")
    announce(first, "vt-ubnd", engine)
    recorded = get_settings().calendar_path.read_bytes()
    text, field, rule = BAD[case]
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(RuleViolation) as exc:
        announce(bad, "vt-ubnd", engine)
    assert (exc.value.field, exc.value.rule) == (field, rule)
    assert "\n" not in str(exc.value)
    assert get_settings().calendar_path.read_bytes() == recorded
    assert len(announcements_audited(engine)) == 1


def test_a_saturday_already_made_up_by_a_recorded_announcement_is_named(engine: Engine, tmp_path: Path) -> None:
    first = tmp_path / "tet-2026.yaml"
    first.write_text(TEST_TET_2026, encoding="utf-8")
    announce(first, "vt-ubnd", engine)
    again = tmp_path / "again.yaml"
    again.write_text("year: 2026\nsource: test data\ndays_off: [{date: 12/02/2026, name: x}]\n"
                     "working_saturdays: [{date: 28/02/2026, name: y}]\n", encoding="utf-8")
    with pytest.raises(RuleViolation) as exc:
        announce(again, "vt-ubnd", engine)
    assert (exc.value.field, exc.value.rule) == ("working_saturdays[0]", "calendar.make-up-twice")
    assert exc.value.message == ("thứ Bảy 28/02/2026 ('y') in again.yaml is already listed as 'Làm bù cho thứ Sáu "
                                 "13/02/2026' (working_saturdays[0] of calendar.yaml, Thông báo thử nghiệm (test data))")


def test_an_unknown_official_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    spec = tmp_path / "tet-2026.yaml"
    spec.write_text(TEST_TET_2026, encoding="utf-8")
    with pytest.raises(RuleViolation) as exc:
        announce(spec, "nobody", engine)
    assert exc.value.rule == "directory.unknown-official"
    assert not get_settings().calendar_path.exists() and not calendar().announced(2026)


def test_the_agency_file_can_live_elsewhere(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "shared" / "lich-nghi.yaml"
    monkeypatch.setenv("VANBAN_CALENDAR_FILE", str(elsewhere))
    get_settings.cache_clear()
    spec = tmp_path / "tet-2026.yaml"
    spec.write_text(TEST_TET_2026, encoding="utf-8")
    announce(spec, "vt-ubnd", engine)
    assert elsewhere.exists() and not (tmp_path / "home" / "calendar.yaml").exists()
    assert calendar().announced(2026)


def runner_on(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The `vanban` app run in this process on ``engine``'s database."""
    from models.db import get_engine

    monkeypatch.setenv("VANBAN_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    get_engine.cache_clear()
    return CliRunner()


@pytest.fixture
def cli(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """On the sample directory's database."""
    return runner_on(engine, monkeypatch)


def test_calendar_show_and_announce_from_the_command_line(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    from flows.cli import app

    shown = cli.invoke(app, ["calendar", "show", "2026"])
    assert shown.exit_code == 0, shown.output
    assert "warning: no public-sector announcement of days off is recorded for 2026" in shown.stderr
    assert "thứ Ba 17/02/2026" in shown.stdout and "Tết Nguyên Đán" in shown.stdout
    assert "announcements: none recorded" in shown.stdout and "249 working days in 2026" in shown.stdout
    as_json = cli.invoke(app, ["calendar", "show", "2026", "--json"])
    assert json.loads(as_json.stdout)["working_days"] == 249
    assert cli.invoke(app, ["calendar", "add", "23/02/2026", "-5"]).stdout.strip() == "09/02/2026"

    spec = tmp_path / "tet-2026.yaml"
    spec.write_text(TEST_TET_2026, encoding="utf-8")
    recorded = cli.invoke(app, ["calendar", "announce", str(spec), "--as", "vt-ubnd"])
    assert recorded.exit_code == 0, recorded.output
    assert "recorded for 2026: Thông báo thử nghiệm (test data) — 1 day(s) off, 1 make-up Saturday(s)" in recorded.stdout
    after = cli.invoke(app, ["calendar", "add", "23/02/2026", "-5"])
    assert after.stdout.strip() == "06/02/2026" and after.stderr == ""
    again = cli.invoke(app, ["calendar", "announce", str(spec), "--as", "vt-ubnd"])
    assert again.exit_code == 1 and "Traceback" not in again.output
    assert again.stderr.startswith("error: days_off[0]: thứ Sáu 13/02/2026")
    assert "(calendar.duplicate-date)" in again.stderr and len(announcements_audited(engine)) == 1
    unknown = cli.invoke(app, ["calendar", "show", "2101"])
    assert unknown.exit_code == 1 and "no year 2101" in unknown.stderr


def test_commands_that_count_working_days_warn_of_an_unannounced_year(
        cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cli import app

    monkeypatch.setenv("VANBAN_TODAY", "2026-11-29")
    get_settings.cache_clear()
    listed = cli.invoke(app, ["assignments", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == []
    assert "warning: no public-sector announcement of days off is recorded for 2026" in listed.stderr
    spec = tmp_path / "tet-2026.yaml"
    spec.write_text(TEST_TET_2026, encoding="utf-8")
    assert cli.invoke(app, ["calendar", "announce", str(spec), "--as", "vt-ubnd"]).exit_code == 0
    assert cli.invoke(app, ["assignments", "--json"]).stderr == ""


def test_who_has_not_acknowledged_is_counted_in_2026_with_the_warning(
        chain_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cli import app

    monkeypatch.setenv("VANBAN_TODAY", "2026-11-29")
    waiting = runner_on(chain_engine, monkeypatch).invoke(
        app, ["deliveries", "374/QĐ-UBND", "--unacknowledged", "3", "--json"])
    assert waiting.exit_code == 0, waiting.output
    assert json.loads(waiting.stdout) == []  # the seed chain's decision was not distributed
    assert "warning: no public-sector announcement of days off is recorded for 2026" in waiting.stderr
