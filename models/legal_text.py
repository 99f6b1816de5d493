"""Vietnamese legal-text rules of Decree 30/2020/NĐ-CP, as small pure functions.

Every rule here is cited in ``../shared/reference/nd30-format.md`` (section numbers in the docstrings).
Nothing here touches the database; the renderer, the checker and the services all call these.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time
from enum import Enum

from models.errors import RuleViolation
from models.kinds import KINDS

# Phụ lục III, Mục I: abbreviations of the 27 administrative document types (nd30-format.md §4), from the kinds
# table. Công văn and Thư công have none; never invent one for them.
TYPE_ABBREVIATIONS: dict[str, str] = {k.name: k.abbreviation for k in KINDS.values() if k.abbreviation}
# Copies (bản sao) share one series per agency (nd30-format.md §5).
COPY_ABBREVIATIONS: dict[str, str] = {"Bản sao y": "SY", "Bản trích sao": "TrS", "Bản sao lục": "SL"}

QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
END_MARK = "./."

# Characters refused in any text vanban is given (and flagged by `vanban check` in any DOCX): control characters and
# the invisible format characters (Unicode Cc and Cf: bidi embeddings, overrides and isolates, zero-width ones, the
# soft hyphen, the word joiner, tags …), which make the text shown differ from the text stored, and the line and
# paragraph separators; then noncharacters and lone surrogates, which no document may hold (XML refuses U+FFFE and
# U+FFFF: the DOCX could not be written). tests/test_legal_text.py checks the list against the Unicode database.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")
_NONCHARACTER = re.compile("[\ud800-\udfff\ufdd0-\ufdef" + "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17)) + "]")
# Lengths, in characters: what rendering and the database accept, checked where the text comes in.
TEXT_MAX = 10_000  # any one text (a paragraph, a line): about three pages; more is a mistake, not a document
NAME_MAX = 255  # a trích yếu, a name, a title: the DOCX core properties (title, subject, author) hold no more
ABBREVIATION_MAX = 20  # an abbreviation in a symbol: the symbol is part of the core properties' title
CODE_MAX = 64  # a code or a series: keys of PostgreSQL indexes, whose rows take about 2,700 bytes at most
_ABBREVIATION = re.compile(r"^[A-ZĐ0-9]+$")


class AuthorityForm(str, Enum):
    """How a signer signs (nd30-format.md §3.7): as head, or TM./KT./Q./TL./TUQ., or TM. + KT."""

    HEAD = "head"
    TM = "TM."
    KT = "KT."
    TM_KT = "TM.+KT."
    Q = "Q."
    TL = "TL."
    TUQ = "TUQ."
    IN_PERSON = "in-person"  # the chủ tọa of a Biên bản signs under that label, in no form of Điều 13


def refused_character(text: str, *, allowed: str = "") -> tuple[str, str, int] | None:
    """The first character of ``text`` no document may hold, other than those of ``allowed``: (rule, what it is,
    position); None when there is none."""
    for pattern, rule, what in ((_NONCHARACTER, "text.noncharacters", "noncharacter"),
                                (_CONTROL, "text.control-characters", "control character")):
        for match in pattern.finditer(text):
            if match.group() not in allowed:
                char = match.group()
                name = unicodedata.name(char, "") if rule == "text.control-characters" else ""
                return rule, f"the {what} U+{ord(char):04X}{' ' + name if name else ''}", match.start()
    return None


def mark_refused(text: str) -> str:
    """``text`` fit to be printed: each character ``refused_character`` names shown as its code point, ⟦U+202E⟧."""
    return _NONCHARACTER.sub(_code_point, _CONTROL.sub(_code_point, text))


def _code_point(match: re.Match[str]) -> str:
    return f"⟦U+{ord(match.group()):04X}⟧"


def clean_text(value: str, field: str, *, multiline: bool = False, max_length: int = TEXT_MAX) -> str:
    """Normalise text entering the system: NFC, trimmed; control, invisible and noncharacters are refused, not
    dropped, and so is a text longer than ``max_length``.

    Silently dropping a character could change the meaning of legal text, so the caller hears which
    field holds it.
    """
    if not isinstance(value, str):
        raise RuleViolation(field, "text.type", f"expected text, got {type(value).__name__}")
    if len(value) > 4 * max_length:  # refused before the work below: NFC can grow a text, but not fourfold
        raise _too_long(field, len(value), max_length)
    found = refused_character(value, allowed="\n" if multiline else "")  # before NFC, which may fold some away
    if found:
        rule, what, position = found
        raise RuleViolation(field, rule, f"contains {what} at position {position}")
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > max_length:
        raise _too_long(field, len(text), max_length)
    return text


def _too_long(field: str, length: int, limit: int) -> RuleViolation:
    return RuleViolation(field, "text.too-long", f"is {length} characters long; at most {limit}")


def upper(text: str) -> str:
    """Upper case for Vietnamese (the result kept in NFC)."""
    return unicodedata.normalize("NFC", text.upper())


def lower_first(text: str) -> str:
    """'Thực hiện …' → 'thực hiện …', to continue a sentence with a title."""
    return text[:1].lower() + text[1:]


def pad2(value: int) -> str:
    """Numbers below 10 take a leading zero (nd30-format.md §3.3)."""
    return f"{value:02d}"


def month_text(month: int) -> str:
    """Months 1 and 2 are padded, 3–12 are not (nd30-format.md §3.4)."""
    return pad2(month) if month in (1, 2) else str(month)


def make_date(year: int, month: int, day: int, field: str = "date") -> date:
    """A real calendar date, or a RuleViolation naming the field (30/02 does not exist)."""
    try:
        return date(year, month, day)
    except (ValueError, TypeError) as exc:
        raise RuleViolation(field, "date.exists", f"{day:02}/{month:02}/{year} is not a calendar date ({exc})") from None


def parse_date(text: str, field: str = "date") -> date:
    """Read '04/3/2024', '2024-03-04' or a date object; refuse impossible dates with the field named."""
    if isinstance(text, date):
        return text
    raw = str(text).strip()
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw)
    if m:
        return make_date(int(m[3]), int(m[2]), int(m[1]), field)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw)
    if m:
        return make_date(int(m[1]), int(m[2]), int(m[3]), field)
    raise RuleViolation(field, "date.format", f"'{raw}' is not a date; write DD/MM/YYYY or YYYY-MM-DD")


def date_words(d: date) -> str:
    """'ngày 04 tháng 3 năm 2024' (nd30-format.md §3.4)."""
    return f"ngày {pad2(d.day)} tháng {month_text(d.month)} năm {d.year}"


WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


def time_words(moment: datetime) -> str:
    """'08 giờ 00 phút, thứ Năm, ngày 05 tháng 3 năm 2026': the time of a meeting in a Giấy mời or Biên bản."""
    return f"{pad2(moment.hour)} giờ {pad2(moment.minute)} phút, {WEEKDAYS[moment.weekday()]}, {date_words(moment.date())}"


def parse_datetime(text: str, field: str = "time") -> datetime:
    """'08:00 05/3/2026', '8h30 05/3/2026' or ISO '2026-03-05T08:00': a time on a day."""
    text = text.strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    m = re.fullmatch(r"(\d{1,2})\s*(?::|h|giờ)\s*(\d{2})?\s*(?:phút)?\s*,?\s*(?:ngày\s*)?(\S+)", text)
    if not m or not 0 <= int(m[1]) <= 23 or not 0 <= int(m[2] or 0) <= 59:
        raise RuleViolation(field, "datetime.format", f"'{text}' is not a time and day like '08:00 05/3/2026'")
    return datetime.combine(parse_date(m[3], field), time(int(m[1]), int(m[2] or 0)))


def date_line(place: str, d: date | None) -> str:
    """Ô 4: 'Vĩnh Long, ngày 04 tháng 3 năm 2024'. A draft (no date yet) leaves day, month, year blank."""
    if d is None:
        return f"{place}, ngày      tháng      năm"
    return f"{place}, {date_words(d)}"


def short_date(d: date) -> str:
    """Dates inside citations: '20/02/2024', '07/9/2021', '19/6/2015' (same padding rule)."""
    return f"{pad2(d.day)}/{month_text(d.month)}/{d.year}"


def check_abbreviation(value: str, field: str) -> str:
    """Agency and unit abbreviations in a symbol: upper-case letters (Đ included) and digits, no spaces."""
    value = clean_text(value, field, max_length=ABBREVIATION_MAX)
    if not _ABBREVIATION.fullmatch(value):
        raise RuleViolation(field, "symbol.abbreviation", f"'{value}' must be upper-case letters or digits only")
    return value


def symbol(type_abbreviation: str | None, agency_abbreviation: str, field_abbreviation: str | None = None) -> str:
    """Ký hiệu (nd30-format.md §3.3): 'QĐ-UBND' for a typed document; 'UBND-VHXH' for a Công văn.

    No year: that form belongs to legal-normative documents, not to administrative ones.
    """
    if type_abbreviation is not None:
        if type_abbreviation not in TYPE_ABBREVIATIONS.values() and type_abbreviation not in COPY_ABBREVIATIONS.values():
            raise RuleViolation("kind", "symbol.type", f"'{type_abbreviation}' is not in Phụ lục III")
        return f"{type_abbreviation}-{agency_abbreviation}"
    if not field_abbreviation:
        raise RuleViolation("symbol", "symbol.cong-van", "a Công văn symbol needs the drafting unit or field, e.g. UBND-VHXH")
    return f"{agency_abbreviation}-{field_abbreviation}"


def number_symbol(number: int | None, sym: str) -> str:
    """'374/QĐ-UBND', '05/UBND-VHXH'; a draft keeps the number blank ('      /QĐ-UBND')."""
    if number is None:
        return f"      /{sym}"
    if number < 1:
        raise RuleViolation("number", "number.positive", f"document numbers start at 01, got {number}")
    return f"{pad2(number)}/{sym}"


def number_line(number: int | None, sym: str) -> str:
    """Ô 3: 'Số: 374/QĐ-UBND'; a draft: 'Số:      /QĐ-UBND'."""
    ns = number_symbol(number, sym)
    return f"Số:{ns}" if number is None else f"Số: {ns}"


def ascii_fold(text: str) -> str:
    """ASCII for file names: diacritics dropped, Đ→D."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def file_stem(number: int, sym: str) -> str:
    """'374-QD-UBND', '10-TTr-STTTT': number, type, issuer; ASCII."""
    return ascii_fold(f"{pad2(number)}-{sym}").replace("/", "-")


def signer_block(form: AuthorityForm, *, head_title: str, signer_title: str, collective: str | None = None,
                 unit_head_title: str | None = None) -> list[str]:
    """Ô 7a/7b: the authority and title lines above the name, upper case (nd30-format.md §3.7, Decree 30 Điều 13).

    ``head_title`` is the title of the head whose competence is used ('Chủ tịch'), ``signer_title`` the
    signer's own title ('Phó Chủ tịch'), ``collective`` the collective body for TM. ('Ủy ban nhân dân'),
    ``unit_head_title`` for TL. only: the title of the head of the signer's unit when a deputy of that unit
    signs ('Chánh Văn phòng'), who then signs KT. of him under the TL. line. Q. prints the acting head's
    prefix and the head's title only: the signer holds no title of his own in that block.
    """
    if form in (AuthorityForm.TM, AuthorityForm.TM_KT) and not collective:
        raise RuleViolation("authority_form", "signer.collective", f"{form.value} needs the collective body's name")
    if form is AuthorityForm.IN_PERSON:
        return []
    if form is AuthorityForm.HEAD:
        if upper(signer_title) != upper(head_title):
            raise RuleViolation("authority_form", "signer.head",
                                f"a {signer_title} is not the {head_title}: a deputy signs KT., an acting head Q.")
        return [upper(head_title)]
    if form is AuthorityForm.TM:
        return [f"TM. {upper(collective)}", upper(signer_title)]
    if form is AuthorityForm.TM_KT:
        return [f"TM. {upper(collective)}", f"KT. {upper(head_title)}", upper(signer_title)]
    if form is AuthorityForm.Q:
        return [f"Q. {upper(head_title)}"]
    if form is AuthorityForm.TL and unit_head_title:
        return [f"TL. {upper(head_title)}", f"KT. {upper(unit_head_title)}", upper(signer_title)]
    return [f"{form.value} {upper(head_title)}", upper(signer_title)]


def join_parties(parties: Sequence[str]) -> str:
    """'A; B; C và D' — how Điều 3 lists who executes a decision."""
    if not parties:
        return ""
    if len(parties) == 1:
        return parties[0]
    return "; ".join(parties[:-1]) + " và " + parties[-1]


def with_end_mark(text: str) -> str:
    """The last paragraph of a body ends with './.' (the Phụ lục III samples and the decree itself)."""
    text = text.rstrip()
    if text.endswith(END_MARK):
        return text
    return (text if text.endswith(".") else text + ".") + "/."


def list_items(items: Sequence[str], *, last: str = ".") -> list[str]:
    """'- item;' lines with the last one ending in ``last`` (Nơi nhận, several Kính gửi addressees)."""
    out = []
    for i, item in enumerate(items):
        end = last if i == len(items) - 1 else ";"
        out.append(f"- {item.rstrip(';.')}{end}")
    return out
