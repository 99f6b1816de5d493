"""The Decree 30/2020/NĐ-CP format rules a DOCX can be checked against — one place to add a rule.

Each rule is data (a stable id, the component, the source in ../shared/reference/nd30-format.md, the
kinds it applies to, its severity) plus one small function that yields (paragraph, expected, found)
for every place the document breaks it. ``check`` runs them all on a document read by docx_reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from doc_templates.docx_reader import TYPE_NAMES, Layout, Para, RuleLine, read_layout
from doc_templates.text_width import DESCENT_EM, LINE_EM
from models.kinds import Heading
from models.legal_text import QUOC_HIEU, TIEU_NGU, TYPE_ABBREVIATIONS, mark_refused, month_text, pad2, refused_character

Violation = tuple[str, str, str]  # paragraph text, expected, found


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    component: str
    paragraph: str
    expected: str
    found: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    id: str
    component: str
    source: str
    severity: str
    applies: Callable[[Layout], bool]
    check: Callable[[Layout], Iterator[Violation]]


RULES: dict[str, Rule] = {}

# Applicability: each rule knows which documents it speaks of.
ALL: Callable[[Layout], bool] = lambda d: True  # noqa: E731
# What the kinds table (models/kinds.py) says of the document; a document of no known kind is held to the shape
# of the kinds with a type name and one signer.
TYPED = lambda d: d.kind_row is None or d.kind_row.heading is not Heading.VV and d.kind_row.heading is not Heading.NONE  # noqa: E731 — a type name (ô 5a)
SUMMED_UP = lambda d: d.kind_row is None or d.kind_row.heading is Heading.TITLE  # noqa: E731 — a trích yếu under it
ABBREVIATED = lambda d: d.kind_row is None or d.kind_row.abbreviation is not None  # noqa: E731 — Phụ lục III Mục I
NUMBERED = lambda d: not d.attached  # noqa: E731 — a document issued with a decision has no Số, date or signer
DATED = lambda d: NUMBERED(d) and (d.kind_row is None or d.kind_row.date_line)  # noqa: E731 — ô 4 (not a Biên bản)
SIGNED = lambda d: not d.attached and not d.is_draft and (d.kind_row is None or d.kind_row.parties is None)  # noqa: E731 — one signer (ô 7); a draft is not signed yet
TWO_PARTIES = lambda d: not d.attached and not d.is_draft and d.kind_row is not None and d.kind_row.parties is not None  # noqa: E731
DECISION = lambda d: d.kind in ("decision", "resolution")  # noqa: E731
LETTER = lambda d: d.kind == "official_letter"  # noqa: E731
AUTHORITY_PREFIXES = ("TM.", "KT.", "Q.", "TL.", "TUQ.")
TOLERANCE_MM = 0.05  # Word stores lengths in whole twips (1/56.7 mm)
# A rule line (docs/layout.md): at least this far under the descenders of the line it underlines, else it touches
# the letters (p, y, the dot of ạ); centred on that line within this; its length within this share of what the
# decree gives (the text's width is estimated from the font's metrics, and a line drawn by hand is seldom exact).
RULE_CLEARANCE_PT = 1.0
RULE_CENTRE_PT = 3.0
RULE_LENGTH_TOLERANCE = 0.1


def rule(rule_id: str, component: str, source: str, *, applies: Callable[[Layout], bool] = ALL,
         severity: str = "error") -> Callable[[Callable[[Layout], Iterator[Violation]]], Callable[[Layout], Iterator[Violation]]]:
    def register(fn: Callable[[Layout], Iterator[Violation]]) -> Callable[[Layout], Iterator[Violation]]:
        RULES[rule_id] = Rule(rule_id, component, source, severity, applies, fn)
        return fn
    return register


# --- helpers -------------------------------------------------------------------------------------

def _short(p: Para | None) -> str:
    return _clip(p.text if p else "")


def _clip(text: str) -> str:
    text = mark_refused(" ".join(text.split()))  # a bidi override in a finding would reorder the terminal's line
    return text if len(text) <= 80 else text[:77] + "…"


def _sizes(p: Para) -> list[float | None]:
    return sorted({r.size for r in p.text_runs}, key=lambda s: s or 0)


def _size_off(p: Para, low: float, high: float) -> str | None:
    bad = [s for s in _sizes(p) if s is None or not low <= s <= high]
    return None if not bad else ", ".join("unset" if s is None else f"{s:g} pt" for s in bad)


def _range(low: float, high: float) -> str:
    return f"{low:g} pt" if low == high else f"{low:g}–{high:g} pt"


def _style(p: Para, component: str, *, size: tuple[float, float], bold: bool | None = None,
           italic: bool | None = None, align: str | None = None, upper: bool | None = None) -> Iterator[Violation]:
    """The common checks of a line: size range, bold, italic, alignment, upper case."""
    off = _size_off(p, *size)
    if off:
        yield _short(p), f"{component} at {_range(*size)}", off
    runs = p.text_runs
    if bold is not None and any(r.bold != bold for r in runs):
        yield _short(p), f"{component} {'bold' if bold else 'not bold'}", "bold" if not bold else "not bold"
    if italic is not None and any(r.italic != italic for r in runs):
        yield _short(p), f"{component} {'italic' if italic else 'upright'}", "upright" if italic else "italic"
    if align is not None and p.align != align:
        yield _short(p), f"{component} aligned {align}", f"aligned {p.align}"
    if upper is True and not p.shown.isupper():
        yield _short(p), f"{component} in upper case", "lower-case letters"
    if upper is False and p.shown.isupper():
        yield _short(p), f"{component} in normal case", "all upper case"


def _missing(component: str) -> Iterator[Violation]:
    yield "", f"a {component}", "none found"


# --- §1 page setup -------------------------------------------------------------------------------

@rule("ND30-PAGE-SIZE", "page", "§1 (Phụ lục I, I.1)")
def page_size(d: Layout) -> Iterator[Violation]:
    w, h = sorted([d.page_width_mm or 0, d.page_height_mm or 0])
    if abs(w - 210) > 1 or abs(h - 297) > 1:
        yield "", "A4, 210 × 297 mm", f"{w:.1f} × {h:.1f} mm"


@rule("ND30-PAGE-ORIENT", "page", "§1 (Phụ lục I, I.2)", severity="warning")
def page_orientation(d: Layout) -> Iterator[Violation]:
    if d.landscape:
        yield "", "portrait (landscape only for a body of wide tables)", "landscape"


MARGINS = {"top": (20, 25), "bottom": (20, 25), "left": (30, 35), "right": (15, 20)}


@rule("ND30-MARGINS", "page", "§1 (Phụ lục I, I.3)")
def margins(d: Layout) -> Iterator[Violation]:
    for side, (low, high) in MARGINS.items():
        value = d.margins_mm.get(side)
        if value is None or not low - TOLERANCE_MM <= value <= high + TOLERANCE_MM:
            yield "", f"{side} margin {low}–{high} mm", "unset" if value is None else f"{value:.2f} mm"


@rule("ND30-FONT", "every text run", "§1 (Phụ lục I, I.4), §10.2")
def font(d: Layout) -> Iterator[Violation]:
    """Times New Roman for the Latin scripts Vietnamese is set in, after styles and defaults are applied."""
    for p in d.paragraphs + d.header_paras:
        for r in p.text_runs:
            fonts = {f for f in r.fonts.values()}
            if fonts != {"Times New Roman"}:
                found = ", ".join(sorted(f or "unset (application default)" for f in fonts))
                yield _short(p), "Times New Roman", found
                break


@rule("ND30-PAGE-NUMBER", "page numbers", "§1 (Phụ lục I, I.7)")
def page_numbers(d: Layout) -> Iterator[Violation]:
    """Numbers from page 2 on, none on page 1: a document that fits on one page has none at all (its page count is
    estimated from its lines, docs/layout.md)."""
    page_one = (d.first_header_paras or []) if d.title_page else d.header_paras
    if any(_has_page_field(p) for p in page_one):
        yield "PAGE", "no number on page 1 (a different, empty first-page header)", "a number on page 1"
    if d.pages < 2:
        return
    numbered = [p for p in d.header_paras if _has_page_field(p)]
    if not numbered:
        yield "", f"a PAGE field centred in the header (the document runs to about {d.pages} pages)", \
            "no page number in the header"
        return
    p = numbered[0]
    if p.align != "center":
        yield "PAGE", "page number centred", f"aligned {p.align}"
    off = _size_off(p, 13, 14) if p.text_runs else None
    if off:
        yield "PAGE", "page number at 13–14 pt", off


def _has_page_field(p: Para) -> bool:
    instr = " ".join(t.text or "" for t in p.el.iter() if isinstance(t.tag, str) and t.tag.endswith("}instrText"))
    simple = " ".join(el.get(el.tag.replace("fldSimple", "instr")) or "" for el in p.el.iter()
                      if isinstance(el.tag, str) and el.tag.endswith("}fldSimple"))
    return "PAGE" in (instr + simple).upper().split()


# --- §3.1–3.2 header -----------------------------------------------------------------------------

@rule("ND30-QUOC-HIEU", "Quốc hiệu", "§3.1")
def quoc_hieu(d: Layout) -> Iterator[Violation]:
    p = d.quoc_hieu
    if p is None:
        yield from _missing("Quốc hiệu 'CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM'")
        return
    if " ".join(p.shown.split()) != QUOC_HIEU:
        yield _short(p), QUOC_HIEU, " ".join(p.shown.split())
    yield from _style(p, "Quốc hiệu", size=(12, 13), bold=True, italic=False)


@rule("ND30-TIEU-NGU", "Tiêu ngữ", "§3.1")
def tieu_ngu(d: Layout) -> Iterator[Violation]:
    p = d.tieu_ngu
    if p is None:
        yield from _missing(f"Tiêu ngữ '{TIEU_NGU}'")
        return
    if " ".join(p.text.split()) != TIEU_NGU:
        yield _short(p), TIEU_NGU, " ".join(p.text.split())
    yield from _style(p, "Tiêu ngữ", size=(13, 14), bold=True, italic=False)


@rule("ND30-TIEU-NGU-RULE", "Tiêu ngữ", "§3.1")
def tieu_ngu_rule(d: Layout) -> Iterator[Violation]:
    if d.tieu_ngu is None:
        return
    if d.tieu_ngu_rule is None:
        found = "underlined text" if any(r.underline for r in d.tieu_ngu.text_runs) else "no line"
        yield _short(d.tieu_ngu), "a solid rule line under the Tiêu ngữ", found
        return
    yield from _rule_line(d.tieu_ngu_rule, d.tieu_ngu, [d.tieu_ngu], "Tiêu ngữ", (1.0, 1.0))


def _rule_line(rule: RuleLine, line: Para, measure: list[Para], component: str,
               share: tuple[float, float]) -> Iterator[Violation]:
    """A rule line sits directly under ``line`` (clear of its descenders, within a line's height), centred on it, and
    is ``share`` of the longest line of ``measure`` long (§3.1, §3.2, §3.5)."""
    if rule.drop_pt is not None:
        clear = rule.drop_pt - DESCENT_EM * line.size_pt
        if clear < RULE_CLEARANCE_PT:
            yield (_short(line), f"the rule line under the {component} clear of its letters "
                   f"(at least {RULE_CLEARANCE_PT:g} pt under the descenders)", f"{clear:.1f} pt: it touches the letters")
        elif rule.drop_pt > LINE_EM * line.size_pt:
            yield (_short(line), f"the rule line directly under the {component}",
                   f"{rule.drop_pt:.1f} pt under its baseline, more than a line")
    if rule.offset_pt is not None and abs(rule.offset_pt) > RULE_CENTRE_PT:
        yield (_short(line), f"the rule line centred under the {component}",
               f"{abs(rule.offset_pt):.1f} pt to the {'right' if rule.offset_pt > 0 else 'left'}")
    width = max(w for p in measure for w in p.line_widths)
    if rule.length_pt is not None and width > 0:
        low, high = share
        if not low * (1 - RULE_LENGTH_TOLERANCE) <= rule.length_pt / width <= high * (1 + RULE_LENGTH_TOLERANCE):
            wanted = f"as long as the {component} ({width:.0f} pt)" if low == high == 1 else \
                f"{_fraction(low)} to {_fraction(high)} of the {component} ({low * width:.0f}–{high * width:.0f} pt)"
            yield (_short(line), f"the rule line {wanted}",
                   f"{rule.length_pt:.0f} pt ({rule.length_pt / width:.0%} of its {width:.0f} pt)")


def _fraction(share: float) -> str:
    return {1 / 3: "1/3", 1 / 2: "1/2"}.get(share, f"{share:g}")


@rule("ND30-AGENCY", "agency name", "§3.2")
def agency(d: Layout) -> Iterator[Violation]:
    if not d.agency:
        yield from _missing("issuing agency name (left header cell)")
        return
    for p in d.agency:
        yield from _style(p, "agency name", size=(12, 13), italic=False, upper=True)
    issuer = d.agency[-1]
    if any(not r.bold for r in issuer.text_runs):
        yield _short(issuer), "issuing agency name bold", "not bold"
    if d.agency_rule is None:
        yield _short(issuer), "a rule line under the agency name", "no line"
        return
    name = [p for p in d.agency if p.text_runs and all(r.bold for r in p.text_runs)] or [issuer]
    yield from _rule_line(d.agency_rule, issuer, name, "agency name", (1 / 3, 1 / 2))


# --- §3.3 number and symbol ----------------------------------------------------------------------

_NUMBER = re.compile(r"^Số: ?(?P<number>\d+|\s*)/(?P<symbol>\S+)$")


def _number_parts(d: Layout) -> tuple[str, str] | None:
    m = _NUMBER.match(d.number.text.strip()) if d.number else None
    return (m["number"].strip(), m["symbol"]) if m else None


@rule("ND30-NUMBER", "Số, ký hiệu", "§3.3", applies=NUMBERED)
def number_line(d: Layout) -> Iterator[Violation]:
    if d.number is None:
        yield from _missing("'Số: NN/…' line")
        return
    if _number_parts(d) is None:
        yield _short(d.number), "'Số: 374/QĐ-UBND': no spaces around '/' and '-'", d.number.text.strip()
    elif re.search(r"\s-|-\s", d.number.text):
        yield _short(d.number), "groups of the symbol joined by '-' without spaces", d.number.text.strip()
    yield from _style(d.number, "'Số:' line", size=(13, 13), bold=False, italic=False)


@rule("ND30-NUMBER-PAD", "Số, ký hiệu", "§3.3", applies=NUMBERED)
def number_pad(d: Layout) -> Iterator[Violation]:
    parts = _number_parts(d)
    if parts and parts[0].isdigit() and int(parts[0]) < 10 and parts[0] != pad2(int(parts[0])):
        yield _short(d.number), f"number {pad2(int(parts[0]))} (a leading zero below 10)", parts[0]


@rule("ND30-NUMBER-TYPE", "Số, ký hiệu", "§3.3, §4 (Phụ lục III)", applies=lambda d: NUMBERED(d) and ABBREVIATED(d))
def number_type(d: Layout) -> Iterator[Violation]:
    parts = _number_parts(d)
    if not parts:
        return
    group = parts[1].split("/")[-1].split("-")[0]
    expected = TYPE_ABBREVIATIONS.get(_type_name(d))
    if group not in TYPE_ABBREVIATIONS.values():
        yield _short(d.number), "a type abbreviation of Phụ lục III (QĐ, TTr, KH, BC, QyĐ, CTr …)", group
    elif expected and group != expected:
        yield _short(d.number), f"'{expected}' for a {_type_name(d)}", group


@rule("ND30-NUMBER-YEAR", "Số, ký hiệu", "§3.3", applies=NUMBERED)
def number_year(d: Layout) -> Iterator[Violation]:
    if d.number is not None and re.search(r"/(19|20)\d\d/", d.number.text):
        yield _short(d.number), "no year in an administrative document's symbol", d.number.text.strip()


def _type_name(d: Layout) -> str | None:
    return TYPE_NAMES.get(" ".join(d.type_name.shown.split())) if d.type_name else None


# --- §3.4 place and date -------------------------------------------------------------------------

_DATE_LINE = re.compile(r"^(?P<place>[^,]+),\s*ngày\s+(?P<d>\d+)\s+tháng\s+(?P<m>\d+)\s+năm\s+(?P<y>\d{4})\s*$")


@rule("ND30-DATE-PAD", "place and date", "§3.4", applies=DATED)
def date_pad(d: Layout) -> Iterator[Violation]:
    if d.date is None:
        yield from _missing("'<Place>, ngày DD tháng M năm YYYY' line")
        return
    m = _DATE_LINE.match(d.date.text.strip())
    if not m:
        if re.search(r"ngày\s+\d", d.date.text):
            yield _short(d.date), "'<Place>, ngày DD tháng M năm YYYY'", d.date.text.strip()
        return  # a draft's blank date
    day, month = int(m["d"]), int(m["m"])
    if m["d"] != pad2(day):
        yield _short(d.date), f"ngày {pad2(day)} (days below 10 padded)", f"ngày {m['d']}"
    if m["m"] != month_text(month):
        yield _short(d.date), f"tháng {month_text(month)} (only months 1 and 2 padded)", f"tháng {m['m']}"


@rule("ND30-DATE-STYLE", "place and date", "§3.4", applies=DATED)
def date_style(d: Layout) -> Iterator[Violation]:
    if d.date is not None:
        yield from _style(d.date, "date line", size=(13, 14), italic=True, bold=False)


@rule("ND30-DATE-PLACE", "place and date", "§3.4", applies=DATED)
def date_place(d: Layout) -> Iterator[Violation]:
    if d.date is None or "," not in d.date.text:
        return
    place = d.date.text.split(",")[0].strip()
    if any(not word[:1].isupper() for word in place.split()):
        yield _short(d.date), "each syllable of the place name capitalised, then a comma", place


# --- §3.5 type name, summary, V/v ----------------------------------------------------------------

@rule("ND30-TYPE-NAME", "type name", "§3.5", applies=TYPED)
def type_name(d: Layout) -> Iterator[Violation]:
    if d.type_name is None:
        yield from _missing("type name (QUYẾT ĐỊNH, TỜ TRÌNH …) after the header")
        return
    yield from _style(d.type_name, "type name", size=(13, 14), bold=True, italic=False, align="center", upper=True)


@rule("ND30-SUBJECT", "trích yếu", "§3.5", applies=SUMMED_UP)
def subject(d: Layout) -> Iterator[Violation]:
    if d.type_name is None:
        return
    if d.subject is None:
        yield from _missing("trích yếu under the type name")
        return
    yield from _style(d.subject, "trích yếu", size=(13, 14), bold=True, italic=False, align="center")
    if d.subject_rule is None:
        yield _short(d.subject), "a rule line under the trích yếu", "no line"
        return
    line = d.attached_note or d.subject  # an attached document's rule comes under its "(Kèm theo …)" line (§8)
    yield from _rule_line(d.subject_rule, line, [d.subject], "trích yếu", (1 / 3, 1 / 2))


@rule("ND30-VV", "V/v", "§3.5", applies=LETTER)
def vv(d: Layout) -> Iterator[Violation]:
    if d.vv is None:
        yield from _missing("'V/v …' line under the number")
        return
    yield from _style(d.vv, "V/v line", size=(12, 13), bold=False, italic=False)


# --- §3.6 decision blocks and body ---------------------------------------------------------------

@rule("ND30-AUTHORITY", "authority line", "§3.6", applies=DECISION)
def authority(d: Layout) -> Iterator[Violation]:
    if d.authority is None:
        yield from _missing("authority line (e.g. 'CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH …')")
        return
    yield from _style(d.authority, "authority line", size=(13, 14), bold=True, align="center", upper=True)


@rule("ND30-BASIS-STYLE", "căn cứ", "§3.6", applies=DECISION)
def basis_style(d: Layout) -> Iterator[Violation]:
    if not d.bases:
        yield from _missing("căn cứ before 'QUYẾT ĐỊNH:'")
    for p in d.bases:
        yield from _style(p, "căn cứ", size=(13, 14), italic=True)


@rule("ND30-BASIS-PUNCT", "căn cứ", "§3.6", applies=DECISION)
def basis_punctuation(d: Layout) -> Iterator[Violation]:
    for i, p in enumerate(d.bases):
        end = "." if i == len(d.bases) - 1 else ";"
        if not p.text.rstrip().endswith(end):
            yield _short(p), f"ends with '{end}'" + (" (the last căn cứ)" if end == "." else ""), f"ends with '{p.text.rstrip()[-1:]}'"


@rule("ND30-DECIDES", "'QUYẾT ĐỊNH:'", "§3.6", applies=DECISION)
def decides(d: Layout) -> Iterator[Violation]:
    if d.decides is None:
        yield from _missing("'QUYẾT ĐỊNH:' line before the articles")
        return
    yield from _style(d.decides, "'QUYẾT ĐỊNH:'", size=(13, 14), bold=True, align="center")


@rule("ND30-BODY-SIZE", "body", "§3.6")
def body_size(d: Layout) -> Iterator[Violation]:
    for p in d.body + d.kinh_gui:
        off = _size_off(p, 13, 14)
        if off:
            yield _short(p), "body text at 13–14 pt", off


@rule("ND30-BODY-ALIGN", "body", "§3.6")
def body_align(d: Layout) -> Iterator[Violation]:
    for p in d.body:
        if p.align not in ("both", "distribute") and len(p.text) > 60:  # short lines may stand alone
            yield _short(p), "justified", f"aligned {p.align}"


@rule("ND30-BODY-INDENT", "body", "§3.6")
def body_indent(d: Layout) -> Iterator[Violation]:
    for p in d.body:
        if not 0.95 <= p.first_line_cm <= 1.32:
            yield _short(p), "first-line indent 1–1.27 cm", f"{p.first_line_cm:.2f} cm"


@rule("ND30-BODY-SPACING", "body", "§3.6")
def body_spacing(d: Layout) -> Iterator[Violation]:
    for p in d.body:
        if max(p.before_pt, p.after_pt) < 6:
            yield _short(p), "at least 6 pt between paragraphs", f"{max(p.before_pt, p.after_pt):g} pt"
        if p.line is not None and not 1.0 <= p.line <= 1.5:
            yield _short(p), "line spacing single to 1.5 lines", f"{p.line:g} lines"


@rule("ND30-ARTICLE-LABEL", "Điều", "§3.6", applies=DECISION)
def article_label(d: Layout) -> Iterator[Violation]:
    for p in d.body:
        m = re.match(r"^Điều\s+\d+\.", p.text)
        if not m:
            continue
        covered, bold = 0, True
        for r in p.runs:  # the runs that print the label must be bold
            if covered >= m.end():
                break
            covered += len(r.text)
            bold = bold and (r.bold or not r.text.strip())
        if not bold:
            yield _short(p), f"'{m.group()}' bold", "not bold"


@rule("ND30-END-MARK", "body", "§3.6 (Phụ lục III samples)", severity="warning")
def end_mark(d: Layout) -> Iterator[Violation]:
    if d.body and not d.body[-1].text.rstrip().endswith("./."):
        yield _short(d.body[-1]), "the body ends with './.'", d.body[-1].text.rstrip()[-3:]


# --- §3.7 signer, §3.9 recipients ----------------------------------------------------------------

@rule("ND30-SIGNER-AUTHORITY", "signer", "§3.7", applies=SIGNED)
def signer_authority(d: Layout) -> Iterator[Violation]:
    if not d.signer_lines:
        yield from _missing("authority and title lines of the signer")
        return
    for p in d.signer_lines:
        yield from _style(p, "signer's authority and title", size=(13, 14), bold=True, upper=True)
    for line in d.signer_block:
        prefix = _prefix(line)
        if prefix is not None and prefix not in AUTHORITY_PREFIXES:
            yield _clip(line), "an authority prefix among " + ", ".join(AUTHORITY_PREFIXES), prefix


_PREFIX_LETTERS = {p.rstrip(".") for p in AUTHORITY_PREFIXES}
# KT. is the only prefix that stands under another (§3.7, Decree 30 Điều 13): under TM. (a deputy of a collective body,
# Điều 13.2) and under TL. (the unit head passed his thừa lệnh on to his deputy, Điều 13.4). Q. is the acting
# head himself; a TUQ. delegation is never passed on (Điều 13.3); KT. is the last authority line.
_STACKS_UNDER = {None: set(AUTHORITY_PREFIXES), "TM.": {"KT."}, "TL.": {"KT."}}


def _prefix(line: str) -> str | None:
    """The authority prefix a line of ô 7a starts with, as written ('KT.' of 'KT. CHỦ TỊCH'), an unknown one too
    (Party-style 'K/T', 'KT' without its dot); None for a title line."""
    first = line.split()[0] if line.split() else ""
    return first if "/" in first or first.endswith(".") or first in _PREFIX_LETTERS else None


def _is_deputy(title: str) -> bool:
    """A deputy's title (cấp phó): PHÓ CHỦ TỊCH, PHÓ CHÁNH VĂN PHÒNG, VỤ PHÓ; THỨ TRƯỞNG under a minister (§3.7)."""
    words = title.split()
    return "PHÓ" in words[:2] or words[:2] == ["THỨ", "TRƯỞNG"]


def _stack_mistake(lines: list[str]) -> tuple[str, str] | None:
    """(expected, found) where ô 7a/7b leaves the stacks of §3.7, or None: head's title; TM. + head's title;
    KT. + deputy; TM. + KT. + deputy; Q. alone; TL. + unit head's title; TL. + KT. + deputy; TUQ. + title.
    Title lines under the signer's own title are other titles (ô 7b: an advisory body's member's post)."""
    prefixes = [_prefix(line) for line in lines]
    if any(p is not None and p not in AUTHORITY_PREFIXES for p in prefixes):
        return None  # ND30-SIGNER-AUTHORITY names the unknown prefix; the stack cannot be read
    top = 0
    while top < len(lines) and prefixes[top] is not None:
        above = prefixes[top - 1] if top else None
        if prefixes[top] not in _STACKS_UNDER.get(above, set()):
            return (f"no {prefixes[top]} line under {above} (only TM. and TL. take a KT. line under them)",
                    f"'{lines[top]}' under '{lines[top - 1]}'")
        top += 1
    late = next((i for i in range(top, len(lines)) if prefixes[i]), None)
    if late is not None:
        return "the authority lines (TM., KT., Q., TL., TUQ.) above the titles", f"'{lines[late]}' under '{lines[late - 1]}'"
    last, above_line = (prefixes[top - 1], lines[top - 1]) if top else (None, None)
    title = lines[top] if top < len(lines) else None
    deputy = title is not None and _is_deputy(title)
    if last == "Q." and title is not None:
        return f"the name right under '{above_line}' (an acting head has no title line of his own)", title
    if last == "KT." and not deputy:
        return f"a deputy's title (PHÓ …) under '{above_line}'", title or "the name"
    if last == "TM." and deputy:
        return f"the head's title under '{above_line}', or 'KT. <head's title>' above a deputy's", title
    if last == "TL." and deputy:
        return f"'KT. <unit head's title>' between '{above_line}' and a deputy's title (Điều 13.4)", title
    if last in ("TM.", "TL.", "TUQ.") and title is None:
        return f"the signer's title under '{above_line}'", "the name"
    if last is None and deputy:
        return "'KT. <head's title>' above a deputy's title", title
    return None


@rule("ND30-SIGNER-STACK", "signer", "§3.7 (Decree 30 Điều 13)", applies=SIGNED)
def signer_stack(d: Layout) -> Iterator[Violation]:
    mistake = _stack_mistake(d.signer_block)
    if mistake:
        yield _clip(" / ".join(d.signer_block)), *mistake


@rule("ND30-SIGNER-NAME", "signer", "§3.7", applies=SIGNED)
def signer_name(d: Layout) -> Iterator[Violation]:
    if d.signer_name is None:
        yield from _missing("signer's full name")
        return
    yield from _style(d.signer_name, "signer's name", size=(13, 14), bold=True, upper=False)


@rule("ND30-PARTIES", "signatures of both parties", "§3.7; Phụ lục III Mẫu 1.9", applies=TWO_PARTIES)
def parties(d: Layout) -> Iterator[Violation]:
    """Biên bản and the two-party kinds: two columns, each a label line (CHỦ TỌA, ĐẠI DIỆN BÊN A …) and a name."""
    if len(d.parties) != 2:
        yield "", "two signatures side by side (both parties, or secretary and presiding officer)", f"{len(d.parties)}"
        return
    for lines in d.parties:
        if len(lines) < 2:
            yield _short(lines[0] if lines else None), "a label line and the signer's name", "one line"
            continue
        for p in lines[:-1]:
            yield from _style(p, "party label and title", size=(13, 14), bold=True, upper=True)
        yield from _style(lines[-1], "signer's name", size=(13, 14), bold=True, upper=False)


@rule("ND30-NOI-NHAN-HEADING", "Nơi nhận", "§3.9")
def noi_nhan_heading(d: Layout) -> Iterator[Violation]:
    if d.noi_nhan is None:
        yield from _missing("'Nơi nhận:' at the left of the signer")
        return
    if d.noi_nhan.text.strip() != "Nơi nhận:":
        yield _short(d.noi_nhan), "'Nơi nhận:' with a colon", d.noi_nhan.text.strip()
    yield from _style(d.noi_nhan, "'Nơi nhận:'", size=(12, 12), bold=True, italic=True)


@rule("ND30-NOI-NHAN-ITEMS", "Nơi nhận", "§3.9")
def noi_nhan_items(d: Layout) -> Iterator[Violation]:
    items = d.noi_nhan_items
    for i, p in enumerate(items):
        text = p.text.strip()
        end = "." if i == len(items) - 1 else ";"
        if not text.startswith("-") or not text.endswith(end):
            yield _short(p), f"'- …{end}'", text
        off = _size_off(p, 11, 11)
        if off:
            yield _short(p), "recipients at 11 pt", off
        if any(r.bold or r.italic for r in p.text_runs):
            yield _short(p), "recipients upright, not bold", "bold or italic"


@rule("ND30-NOI-NHAN-ARCHIVE", "Nơi nhận", "§3.9")
def noi_nhan_archive(d: Layout) -> Iterator[Violation]:
    if d.noi_nhan is None:
        return
    last = d.noi_nhan_items[-1].text.strip() if d.noi_nhan_items else ""
    if not re.match(r"^- Lưu: VT\b.*\.$", last):
        yield last, "the last line '- Lưu: VT, <unit> (<copies>).'", last or "no recipients"


@rule("ND30-CHARACTERS", "every paragraph", "§1 (Phụ lục I, I.4: Unicode text, TCVN 6909:2001)")
def characters(d: Layout) -> Iterator[Violation]:
    """Text whose shown form differs from what it holds: control and invisible characters (bidi overrides and
    isolates, zero-width ones, the word joiner, the soft hyphen) and noncharacters; tabs and line breaks are
    Word's own."""
    for p in [*(d.first_header_paras or []), *d.header_paras, *d.paragraphs]:
        found = refused_character(p.text, allowed="\t\n")
        if found:
            _rule, what, position = found
            yield _short(p), "printable Vietnamese text, nothing hidden in it", f"{what} at position {position}"


# --- what makes a document hard to check ---------------------------------------------------------

@rule("ND30-TRACKED-CHANGES", "document", "—", severity="warning")
def tracked_changes(d: Layout) -> Iterator[Violation]:
    if d.tracked_changes:
        yield "", "no pending tracked changes in an issued document", f"{d.tracked_changes} tracked changes"


@rule("ND30-TEXT-BOX", "document", "§2", severity="warning")
def text_boxes(d: Layout) -> Iterator[Violation]:
    if d.text_boxes:
        yield "", "components in paragraphs and tables, not text boxes (text boxes are not checked)", f"{d.text_boxes} text boxes"


@rule("ND30-NESTED-TABLE", "document", "§2.3", severity="warning")
def nested_tables(d: Layout) -> Iterator[Violation]:
    if d.nested_tables:
        yield "", "header and signature in plain two-column tables (nested tables are not checked)", "tables inside tables"


# --- running -------------------------------------------------------------------------------------

@dataclass
class Report:
    kind: str
    findings: list[Finding]

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)


def check_layout(layout: Layout) -> Report:
    findings = [
        Finding(r.id, r.severity, r.component, paragraph, expected, found)
        for r in RULES.values() if r.applies(layout)
        for paragraph, expected, found in r.check(layout)
    ]
    return Report(layout.kind, findings)


def check(data: bytes) -> Report:
    """Check DOCX bytes; UnreadableDocx when they are not a DOCX that opens."""
    return check_layout(read_layout(data))
