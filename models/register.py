"""Outgoing registers (sổ đăng ký văn bản đi): where official numbers are allocated and voided.

Rules (Decree 30 Điều 15, nd30-format.md §5): a series per issuing agency and year (an agency may keep
one series for all its administrative documents, or several split by kind, as its head decides); numbers
start at 01 on 1 January and run to 31 December, follow the order of issue, are unique, never reused; a
voided number stays with its reason. A year's registers open by themselves on first use: whenever no
register of the year numbers the kind issued, the series of the agency's latest earlier year that the year
lacks are copied into it. Numbers an agency gave outside vanban (sổ cũ) can be imported so that numbering
continues after them. Only an agency in force on some day of a year keeps registers for it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, select

from models.audit import Action, record
from models.directory import Agency, period
from models.document import MAX_ID, DocumentKind, utcnow
from models.errors import RuleViolation
from models.legal_text import CODE_MAX, clean_text, number_symbol, pad2, parse_date, short_date

ALL_KINDS = "*"
KIND_VALUES = [k.value for k in DocumentKind]


class OutgoingRegister(SQLModel, table=True):
    """One number series of one agency for one year."""

    __table_args__ = (UniqueConstraint("agency_id", "year", "series"),)
    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    year: int
    series: str = Field(default="chung", description="Series code; 'chung' = the agency's shared series")
    name: str = Field(default="Sổ đăng ký văn bản đi")
    kinds: str = Field(default=ALL_KINDS, description="Document kinds numbered here, comma-separated, or '*'")
    opening_number: int = Field(default=0, description="Last number given before vanban kept this register")
    last_number: int = 0
    opened_from: int | None = Field(default=None, description="The year it was copied from when it opened by itself")
    is_sample: bool = False

    def covers(self, kind: str) -> bool:
        return self.kinds == ALL_KINDS or kind in self.kinds.split(",")


class RegisterEntry(SQLModel, table=True):
    """A number given out: to a document, or voided (with its reason, kept for the inspector), or imported
    from a register kept outside vanban (no document; its trích yếu kept as ``subject``)."""

    __table_args__ = (UniqueConstraint("register_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    register_id: int = Field(foreign_key="outgoingregister.id", index=True)
    number: int
    document_id: int | None = Field(default=None, foreign_key="document.id", unique=True)
    number_symbol: str
    issued_on: date
    allocated_at: datetime = Field(default_factory=utcnow)
    voided_reason: str | None = None
    voided_at: datetime | None = None
    imported: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    subject: str | None = Field(default=None, description="Trích yếu of an imported entry")


def _agency(session: Session, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise RuleViolation("agency", "directory.unknown-agency", f"no agency #{agency_id} in the directory")
    return agency


def _agency_code(session: Session, agency_id: int) -> str:
    return _agency(session, agency_id).code


def _agency_of_year(session: Session, agency_id: int, year: int) -> Agency:
    """The agency, in force on some day of ``year`` (valid_from <= 31/12, valid_until >= 01/01): a register
    is kept only by an agency that exists that year; otherwise refused naming its period and its successor."""
    if not 1900 <= year <= 9999:
        raise RuleViolation("year", "register.year", f"{year} is not a year of issue")
    agency = _agency(session, agency_id)
    if ((agency.valid_from is None or agency.valid_from <= date(year, 12, 31))
            and (agency.valid_until is None or agency.valid_until >= date(year, 1, 1))):
        return agency
    successor = session.get(Agency, agency.successor_id) if agency.successor_id else None
    went = f"; its successor is '{successor.code}'" if successor else ""
    raise RuleViolation("agency", "register.agency-period",
                        f"agency '{agency.code}' is in the directory {period(agency)}, not in {year}: "
                        f"it keeps no register for {year}{went}")


def check_kinds(value: str) -> str:
    """'*' or document kinds (``DocumentKind`` values) separated by commas, each once."""
    value = clean_text(value, "kinds")
    if value == ALL_KINDS:
        return value
    kinds = [k.strip() for k in value.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KIND_VALUES]
    if unknown or not kinds:
        raise RuleViolation("kinds", "register.kinds",
                            f"unknown kind '{unknown[0] if unknown else value}'; kinds: {', '.join(KIND_VALUES)} or '*'")
    return ",".join(dict.fromkeys(kinds))


def _same_kind_conflict(kinds: str, others: list[OutgoingRegister]) -> tuple[OutgoingRegister, str] | None:
    """A series that would number a kind this configuration numbers too. A series naming a kind beside
    the shared '*' one is no conflict: the named series wins for its kinds."""
    mine = kinds.split(",")
    for other in others:
        if kinds == ALL_KINDS and other.kinds == ALL_KINDS:
            return other, ALL_KINDS
        if kinds != ALL_KINDS and other.kinds != ALL_KINDS:
            shared = [k for k in mine if k in other.kinds.split(",")]
            if shared:
                return other, ",".join(shared)
    return None


def add_register(
    session: Session, agency_id: int, year: int, *, series: str = "chung", kinds: str = ALL_KINDS,
    opening_number: int = 0, name: str = "Sổ đăng ký văn bản đi", opened_from: int | None = None,
    is_sample: bool = False,
) -> OutgoingRegister:
    """Validate and store a series, not audited: for callers whose own audit entry covers it (the
    directory load) and for ``open_register``."""
    code = _agency_of_year(session, agency_id, year).code
    series = clean_text(series, "series", max_length=CODE_MAX)
    if not series:
        raise RuleViolation("series", "register.series", "a register needs a series code, e.g. 'chung'")
    kinds = check_kinds(kinds)
    if opening_number < 0:
        raise RuleViolation("opening_number", "register.opening", "cannot be negative")
    existing = session.exec(
        select(OutgoingRegister).where(OutgoingRegister.agency_id == agency_id, OutgoingRegister.year == year)
    ).all()
    if any(r.series == series for r in existing):
        raise RuleViolation("series", "register.duplicate",
                            f"agency '{code}' has a register '{series}' for {year} already")
    conflict = _same_kind_conflict(kinds, existing)
    if conflict:
        other, shared = conflict
        raise RuleViolation("kinds", "register.kinds-overlap",
                            f"series '{series}' and '{other.series}' of agency '{code}' would both number "
                            f"{'every kind' if shared == ALL_KINDS else shared} in {year}")
    register = OutgoingRegister(
        agency_id=agency_id, year=year, series=series, name=name, kinds=kinds, opening_number=opening_number,
        last_number=opening_number, opened_from=opened_from, is_sample=is_sample,
    )
    session.add(register)
    session.flush()
    return register


def _opening_details(session: Session, register: OutgoingRegister, how: str) -> dict:
    return {"agency": _agency_code(session, register.agency_id), "year": register.year, "series": register.series,
            "kinds": register.kinds, "opening_number": register.opening_number, "opened": how}


def open_register(
    session: Session, agency_id: int, year: int, *, series: str = "chung", kinds: str = ALL_KINDS,
    opening_number: int = 0, actor: str = "system",
) -> OutgoingRegister:
    """Open a series for a year explicitly (audited); ``opening_number`` carries over numbers given before
    vanban kept it."""
    register = add_register(session, agency_id, year, series=series, kinds=kinds, opening_number=opening_number)
    record(session, Action.REGISTER_OPENED, actor=actor, details=_opening_details(session, register, "explicitly"))
    return register


def _covered(registers: list[OutgoingRegister], kind: str | None) -> bool:
    """Some register numbers ``kind`` (None: any register at all, for an import)."""
    return any(kind is None or r.covers(kind) for r in registers)


def _missing(code: str, year: int, kind: str | None, why: str = "") -> RuleViolation:
    return RuleViolation("register", "register.missing",
                         f"agency '{code}' has no outgoing register for {kind} in {year}{why}; "
                         f"open one: vanban register open {code} --year {year} --kinds {kind} --as CODE")


def _open_from_last_year(session: Session, agency_id: int, year: int, kind: str | None) -> list[OutgoingRegister]:
    """When no register of ``year`` numbers ``kind``, open in it the series of the agency's latest earlier year
    that it does not have yet (numbers from 01); [] when nothing is needed or there is nothing to copy (the
    caller then names what is missing). Refused when neither the year nor any earlier one has a register, or
    when a copied series would number a kind that a series opened this year numbers too: this year's choice
    is not second-guessed.
    The agency row is locked first, so two first issues of a year queue here and the second finds the
    registers the first opened."""
    if _covered(_year_registers(session, agency_id, year, lock=False), kind):  # most issues: no lock needed
        return []
    session.exec(select(Agency.id).where(Agency.id == agency_id).with_for_update()).one()
    opened = session.exec(
        select(OutgoingRegister).where(OutgoingRegister.agency_id == agency_id, OutgoingRegister.year == year)
        .execution_options(populate_existing=True)
    ).all()
    if _covered(opened, kind):
        return []
    code = _agency_of_year(session, agency_id, year).code
    last_year = session.exec(select(func.max(OutgoingRegister.year)).where(
        OutgoingRegister.agency_id == agency_id, OutgoingRegister.year < year)).one()
    if last_year is None:
        if opened:
            return []
        raise RuleViolation("register", "register.missing",
                            f"agency '{code}' has no outgoing register for {year} nor any earlier year to copy; "
                            f"open one: vanban register open {code} --year {year} --as CODE")
    templates = session.exec(select(OutgoingRegister).where(
        OutgoingRegister.agency_id == agency_id, OutgoingRegister.year == last_year).order_by(OutgoingRegister.id)).all()
    have = {r.series for r in opened}
    missing = [t for t in templates if t.series not in have]
    for template in missing:
        conflict = _same_kind_conflict(template.kinds, opened)
        if conflict:
            other, shared = conflict
            numbered = "every kind" if shared == ALL_KINDS else shared
            raise _missing(code, year, kind, f" (its {last_year} series '{template.series}' would number "
                                             f"{numbered} like '{other.series}')")
    return [add_register(session, agency_id, year, series=t.series, kinds=t.kinds, name=t.name, opened_from=last_year)
            for t in missing]


def _record_auto_opened(session: Session, registers: list[OutgoingRegister], actor: str) -> None:
    for register in registers:
        record(session, Action.REGISTER_OPENED, actor=actor,
               details=_opening_details(session, register, f"automatically from {register.opened_from}"))


def _year_registers(session: Session, agency_id: int, year: int, *, lock: bool) -> list[OutgoingRegister]:
    query = select(OutgoingRegister).where(OutgoingRegister.agency_id == agency_id, OutgoingRegister.year == year)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(session.exec(query))


def register_for(session: Session, agency_id: int, year: int, kind: str, *, lock: bool = False) -> OutgoingRegister:
    """The series that numbers ``kind`` at the agency in ``year``: a series naming the kind wins over '*'."""
    candidates = [r for r in _year_registers(session, agency_id, year, lock=lock) if r.covers(kind)]
    chosen = [r for r in candidates if r.kinds != ALL_KINDS] or candidates
    if not chosen:
        raise _missing(_agency_code(session, agency_id), year, kind)
    if len(chosen) > 1:
        names = ", ".join(r.series for r in chosen)
        raise RuleViolation("register", "register.ambiguous",
                            f"several series of agency '{_agency_code(session, agency_id)}' number {kind} in {year}: {names}")
    return chosen[0]


def _last_date(session: Session, register: OutgoingRegister) -> date | None:
    return session.exec(select(func.max(RegisterEntry.issued_on)).where(RegisterEntry.register_id == register.id)).one()


def allocate_number(session: Session, agency_id: int, kind: str, issued_on: date, symbol: str, document_id: int | None,
                    *, actor: str = "system") -> RegisterEntry:
    """Give the next number of the series to a document being issued, in the caller's transaction; the
    first number of a kind no register of the year numbers opens the series of the agency's last year that
    the year lacks (audited).

    The register row is locked (SELECT … FOR UPDATE on PostgreSQL; on SQLite the engine begins every
    transaction IMMEDIATE, which takes the write lock), so concurrent issuers queue and get distinct,
    consecutive numbers; the unique key (register, number) is the last guard.
    """
    year = issued_on.year
    opened = _open_from_last_year(session, agency_id, year, kind)
    register = register_for(session, agency_id, year, kind, lock=True)
    last_date = _last_date(session, register)
    if last_date is not None and issued_on < last_date:
        raise RuleViolation(
            "issued_on", "register.time-order",
            f"{issued_on:%d/%m/%Y} is before {last_date:%d/%m/%Y}, the date of the last number of this series; "
            "numbers follow the order of issue",
        )
    register.last_number += 1
    entry = RegisterEntry(
        register_id=register.id, number=register.last_number, document_id=document_id,
        number_symbol=number_symbol(register.last_number, symbol), issued_on=issued_on,
    )
    session.add(register)
    session.add(entry)
    session.flush()
    _record_auto_opened(session, opened, actor)
    record(session, Action.NUMBER_ALLOCATED, actor=actor, document_id=document_id,
           details={"number_symbol": entry.number_symbol, "register": register.id, "series": register.series,
                    "year": register.year})
    return entry


def find_entry(session: Session, ref: str | int, field: str = "entry") -> RegisterEntry:
    """A register entry by its number and symbol as printed ('05/QĐ-UBND', with '/2026' when the number repeats
    across years), or by its id."""
    text = unicodedata.normalize("NFC", str(ref).strip())
    if text.isdigit():
        entry = session.get(RegisterEntry, int(text))
        if entry is None:
            raise RuleViolation(field, "register.unknown-entry", f"no register entry #{text}")
        return entry
    number_symbol_text, _, year = text.rpartition("/") if re.fullmatch(r".+/\d{4}", text) else (text, "", "")
    found = [e for e in session.exec(select(RegisterEntry).where(RegisterEntry.number_symbol == number_symbol_text))
             if not year or e.issued_on.year == int(year)]
    if not found:
        raise RuleViolation(field, "register.unknown-entry", f"no register entry {text}")
    if len(found) > 1:
        years = ", ".join(str(e.issued_on.year) for e in found)
        raise RuleViolation(field, "register.ambiguous-entry",
                            f"{text} stands in the registers of several years ({years}): add the year, e.g. {text}/{found[-1].issued_on.year}")
    return found[0]


def void_number(session: Session, ref: str | int, reason: str, *, actor: str = "system") -> RegisterEntry:
    """Void a number: it stays in the register with its reason and is never given again."""
    reason = clean_text(reason, "reason")
    if not reason:
        raise RuleViolation("reason", "register.void-reason", "a voided number needs its reason")
    entry = find_entry(session, ref)
    if entry.voided_at is not None:
        raise RuleViolation("entry", "register.already-voided", f"{entry.number_symbol} was voided already")
    entry.voided_reason = reason
    entry.voided_at = utcnow()
    session.add(entry)
    session.flush()
    record(session, Action.NUMBER_VOIDED, actor=actor, document_id=entry.document_id,
           details={"number_symbol": entry.number_symbol, "reason": reason})
    return entry


@dataclass
class RegisterSummary:
    """One register as ``vanban register list`` shows it."""

    agency: str
    year: int
    series: str
    kinds: str
    last_number: int
    opened: str  # "automatically from 2024" or "explicitly"
    imported: int  # entries imported from a register kept outside vanban

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def list_registers(session: Session, agency_id: int | None = None, year: int | None = None) -> list[RegisterSummary]:
    """The outgoing registers, by agency code, year and series; optionally of one agency or year."""
    imported = (select(RegisterEntry.register_id, func.count().label("n")).where(RegisterEntry.imported)
                .group_by(RegisterEntry.register_id).subquery())
    query = (select(OutgoingRegister, Agency.code, imported.c.n)
             .join(Agency, Agency.id == OutgoingRegister.agency_id)
             .outerjoin(imported, imported.c.register_id == OutgoingRegister.id)
             .order_by(Agency.code, OutgoingRegister.year, OutgoingRegister.series))
    if agency_id is not None:
        query = query.where(OutgoingRegister.agency_id == agency_id)
    if year is not None:
        query = query.where(OutgoingRegister.year == year)
    return [RegisterSummary(code, r.year, r.series, r.kinds, r.last_number,
                            f"automatically from {r.opened_from}" if r.opened_from else "explicitly", n or 0)
            for r, code, n in session.exec(query)]


# --- legacy registers (sổ cũ) ---------------------------------------------------------------------

LEGACY_COLUMNS = ("number", "symbol", "date", "subject")
LEGACY_OPTIONAL = ("series",)


@dataclass
class LegacyRow:
    line: int  # line of the file, header = 1
    number: int
    symbol: str
    issued_on: date
    subject: str
    series: str | None

    @property
    def label(self) -> str:
        return f"line {self.line} ({number_symbol(self.number, self.symbol)})"


def read_legacy_csv(data: bytes, name: str, year: int) -> list[LegacyRow]:
    """Rows of a clerk's export (CSV with a header: number, symbol, date DD/MM/YYYY, subject, optional
    series; ',' or ';' separated, as spreadsheets write them, a UTF-8 BOM allowed), each checked."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolation("file", "register.import-encoding", f"{name} is not UTF-8 text") from None
    first = text.split("\n", 1)[0]
    reader = csv.DictReader(io.StringIO(text), delimiter=";" if first.count(";") > first.count(",") else ",")
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in LEGACY_COLUMNS if c not in header]
    unknown = [h for h in header if h not in LEGACY_COLUMNS + LEGACY_OPTIONAL]
    if missing or unknown:
        raise RuleViolation("file", "register.import-columns",
                            f"{name} needs the columns {', '.join(LEGACY_COLUMNS)} (and optionally series); "
                            + (f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"))
    reader.fieldnames = header
    rows = [_legacy_row(raw, reader.line_num, name, year) for raw in reader
            if any((v or "").strip() for v in raw.values())]
    if not rows:
        raise RuleViolation("file", "register.import-empty", f"{name} has no entries")
    return rows


def _legacy_row(raw: dict, line: int, name: str, year: int) -> LegacyRow:
    where = f"{name} line {line}"
    number_text = (raw.get("number") or "").strip()
    if not number_text.isdigit() or not 1 <= int(number_text) <= MAX_ID:
        raise RuleViolation(f"{where}.number", "register.import-number",
                            f"'{number_text}' is not a number of issue (01, 02 …)")
    symbol = clean_text(raw.get("symbol") or "", f"{where}.symbol")
    if not symbol or "/" in symbol or " " in symbol:
        raise RuleViolation(f"{where}.symbol", "register.import-symbol",
                            f"'{symbol}' is not a ký hiệu such as 'QĐ-UBND'")
    issued_on = parse_date(raw.get("date") or "", f"{where}.date")
    if issued_on.year != year:
        raise RuleViolation(f"{where}.date", "register.import-year",
                            f"{short_date(issued_on)} is not in {year}, the year of the register")
    subject = clean_text(raw.get("subject") or "", f"{where}.subject")
    if not subject:
        raise RuleViolation(f"{where}.subject", "register.import-subject", "the trích yếu is empty")
    series = clean_text(raw.get("series") or "", f"{where}.series", max_length=CODE_MAX) or None
    return LegacyRow(line, int(number_text), symbol, issued_on, subject, series)


def _import_target(session: Session, agency_id: int, year: int, series: str | None) -> tuple[OutgoingRegister, list]:
    """The series the import goes into; the year's registers open from the last year's if it has none."""
    code = _agency_of_year(session, agency_id, year).code
    opened = _open_from_last_year(session, agency_id, year, None)
    registers = _year_registers(session, agency_id, year, lock=True)
    if series is None:
        if len(registers) > 1:
            raise RuleViolation("series", "register.import-series",
                                f"agency '{code}' keeps several series in {year} "
                                f"({', '.join(r.series for r in registers)}); say which (--series or a series column)")
        return registers[0], opened
    for register in registers:
        if register.series == series:
            return register, opened
    raise RuleViolation("series", "register.unknown-series",
                        f"agency '{code}' has no register '{series}' for {year}; "
                        f"open it: vanban register open {code} --year {year} --series {series} --as CODE")


def import_legacy(session: Session, agency_id: int, year: int, path: Path, *, series: str | None = None,
                  actor: str = "system") -> tuple[OutgoingRegister, list[RegisterEntry]]:
    """Import the numbers an agency gave this year outside vanban into its register, in one transaction:
    each becomes an entry marked ``imported``, and numbering continues after the highest one. Refused as a
    whole, naming the entry, when a number repeats in the file, clashes with the register, leaves a gap,
    or its date breaks the order of issue."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RuleViolation("file", "file.read", f"cannot read {path}: {exc.strerror}") from None
    rows = read_legacy_csv(data, path.name, year)
    named = {r.series for r in rows if r.series}
    if series is not None:
        series = clean_text(series, "series", max_length=CODE_MAX)
        named.add(series)
    if len(named) > 1:
        raise RuleViolation("series", "register.import-series",
                            f"{path.name} names several series ({', '.join(sorted(named))}); import one series per file")
    register, opened = _import_target(session, agency_id, year, named.pop() if named else None)
    code = _agency_code(session, agency_id)
    seen: dict[int, LegacyRow] = {}
    for row in rows:
        if row.number in seen:
            raise RuleViolation("file", "register.import-duplicate",
                                f"{row.label}: number {pad2(row.number)} is also on {seen[row.number].label}")
        seen[row.number] = row
    existing = {e.number: e for e in session.exec(select(RegisterEntry).where(RegisterEntry.register_id == register.id))}
    clashes = sorted(n for n in seen if n in existing)
    if clashes:
        first = seen[clashes[0]]
        raise RuleViolation("file", "register.import-overlap",
                            f"{first.label}: the register '{register.series}' of '{code}' for {year} has "
                            f"{_numbers(clashes)} already ({existing[clashes[0]].number_symbol} of "
                            f"{short_date(existing[clashes[0]].issued_on)})")
    last = max(register.last_number, max(seen))
    gaps = [n for n in range(register.opening_number + 1, last + 1) if n not in seen and n not in existing]
    if gaps:
        raise RuleViolation("file", "register.import-gap",
                            f"the register '{register.series}' of '{code}' for {year} would lack {_numbers(gaps)}; "
                            "list every number given, voided ones included")
    _check_order(seen, existing)
    entries = [RegisterEntry(register_id=register.id, number=r.number, number_symbol=number_symbol(r.number, r.symbol),
                             issued_on=r.issued_on, imported=True, subject=r.subject) for r in rows]
    register.last_number = last
    session.add(register)
    session.add_all(entries)
    session.flush()
    _record_auto_opened(session, opened, actor)
    numbers = sorted(seen)
    record(session, Action.REGISTER_IMPORTED, actor=actor,
           details={"agency": code, "year": year, "series": register.series, "count": len(entries),
                    "numbers": f"{pad2(numbers[0])}-{pad2(numbers[-1])}", "file": path.name,
                    "sha256": hashlib.sha256(data).hexdigest()})
    return register, entries


def _numbers(numbers: list[int]) -> str:
    """'number 05' / 'numbers 04, 07', the first ten."""
    shown = ", ".join(pad2(n) for n in numbers[:10]) + (" …" if len(numbers) > 10 else "")
    return f"number {shown}" if len(numbers) == 1 else f"numbers {shown}"


def _check_order(imported: dict[int, LegacyRow], existing: dict[int, RegisterEntry]) -> None:
    """Numbers follow the order of issue: by number, no date earlier than the one before it, across the
    imported and the existing entries alike (so a later allocation is not dated before the import)."""
    dated = sorted([(n, r.issued_on, r.label) for n, r in imported.items()]
                   + [(n, e.issued_on, e.number_symbol) for n, e in existing.items()])
    for (_, before, before_label), (_, on, label) in zip(dated, dated[1:]):
        if on < before:
            raise RuleViolation("file", "register.time-order",
                                f"{label}: {short_date(on)} is before {short_date(before)}, the date of {before_label}; "
                                "numbers follow the order of issue")
