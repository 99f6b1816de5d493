"""Pages that print right (issue 12): vanban's documents printed to PDF by LibreOffice (Debian's
libreoffice-writer, which .ci/run installs) and read back with pdfplumber. Every rule line lies under the
text it underlines, clear of its letters and above the next line, centred on it, at its Decree 30 length;
no heading is the last line of a page; the signer block prints on the page of the last body paragraph; the
register book's entries never break inside a word; the checker's page count is LibreOffice's.

All documents go through one soffice process with a profile of its own (docs/layout.md).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pdfplumber
import pytest
from sqlmodel import Session, select

from doc_templates import render_document
from doc_templates.docx_reader import Layout, read_layout
from doc_templates.register_book import incoming_book, outgoing_book, render_book
from doc_templates.text_width import ASCENT_EM, DESCENT_EM
from models.assignments import Assignment
from models.db import make_engine, session_scope
from models.directory import agency_by_code
from models.document import Document
from models.drafting import draft_document
from models.issuing import issue_document
from models.legal_text import TIEU_NGU
from models.reporting import compose_report
from models.sample_data import SEED_CHAIN_FILE, read_yaml
from models.signing import sign_document
from tests.test_check import LETTER

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# Skipped where LibreOffice is missing, but never in CI, whose .ci/run installs it.
pytestmark = pytest.mark.skipif(SOFFICE is None and not os.environ.get("CI"),
                                reason="LibreOffice (soffice) is not on PATH: apt-get install libreoffice-writer")


# --- what is printed ---------------------------------------------------------------------------------

def documents_to_print(session: Session, files: Path) -> dict[str, bytes]:
    """The administrative documents every print test reads: the seed chain (Tờ trình, Kế hoạch, the decision), the
    Báo cáo that reports on it and a Công văn. Add a kind here (one line: name → its issued DOCX) and every test
    checks it."""
    spec = {k: v for k, v in copy.deepcopy(read_yaml(SEED_CHAIN_FILE)["report"]).items()
            if k not in ("drafted_by", "issued_by", "issued_on")}
    draft, _ = compose_report(session, {**spec, "assignment": session.exec(select(Assignment)).one().id},
                              on=date(2024, 12, 12))
    by_symbol = {d.symbol: d for d in session.exec(select(Document)).all()}
    return {
        **{name: render_document(session, by_symbol[symbol]) for name, symbol in (
            ("to-trinh", "TTr-STTTT"), ("ke-hoach", "KH-STTTT"), ("quyet-dinh", "QĐ-UBND"))},
        "bao-cao": issued(session, draft, date(2024, 12, 12), files),
        "cong-van": issued(session, copy.deepcopy(LETTER), date(2024, 12, 20), files),
    }


def issued(session: Session, spec: dict, on: date, files: Path) -> bytes:
    """The DOCX of a document drafted from ``spec``, signed and issued on ``on``."""
    document = draft_document(session, spec)
    sign_document(session, document)
    issue_document(session, document, on, files)
    return render_document(session, document)


def registers_to_print(session: Session) -> dict[str, bytes]:
    """Sở TTTT's outgoing register and the province's incoming one for 2024 (after documents_to_print)."""
    return {"so-di-sttt": render_book(session, outgoing_book(session, agency_by_code(session, "sttt"), 2024)),
            "so-den-ubnd": render_book(session, incoming_book(session, agency_by_code(session, "ubnd-tinh"), 2024))}


def print_to_pdf(documents: dict[str, bytes], folder: Path) -> dict[str, Path]:
    """Each DOCX printed to PDF by one LibreOffice process, with its own profile so parallel runs do not clash."""
    assert SOFFICE, "LibreOffice is not installed, and CI must print: .ci/run installs libreoffice-writer"
    folder.mkdir(parents=True, exist_ok=True)
    sources = []
    for name, data in documents.items():
        sources.append(folder / f"{name}.docx")
        sources[-1].write_bytes(data)
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(folder / "pdf"), *map(str, sources)],
                   check=True, capture_output=True, timeout=300)
    return {name: folder / "pdf" / f"{name}.pdf" for name in documents}


# --- reading the PDF back ----------------------------------------------------------------------------

@dataclass
class Line:
    """A line of printed text in one column: its page (from 1), extent, baseline and size (pt, from the top)."""
    page: int
    text: str
    x0: float
    x1: float
    baseline: float
    size: float
    bold: bool

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def top(self) -> float:
        return self.baseline - ASCENT_EM * self.size


@dataclass
class Rule:
    page: int
    x0: float
    x1: float
    y: float

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class Printed:
    pages: int
    lines: list[Line]  # page by page, top to bottom, left to right
    rules: list[Rule]
    right_margin: float  # where the text area ends on the right


def read_pdf(path: Path) -> Printed:
    lines: list[Line] = []
    rules: list[Rule] = []
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            rows: dict[float, list[dict]] = {}
            for ch in page.chars:
                if ch["text"].strip():
                    baseline = round(page.height - ch["matrix"][5], 1)
                    rows.setdefault(baseline, []).append(ch)
            for baseline in sorted(rows):
                chars = sorted(rows[baseline], key=lambda c: c["x0"])
                run = [chars[0]]
                for ch in chars[1:]:  # a gap of two em or more separates two columns
                    if ch["x0"] - run[-1]["x1"] > 2 * ch["size"]:
                        lines.append(_line(number, run, baseline))
                        run = []
                    run.append(ch)
                lines.append(_line(number, run, baseline))
            seen = set()
            for segment in page.lines + [r for r in page.rects if r["height"] < 1]:
                key = (round(segment["x0"], 1), round(segment["x1"], 1), round(segment["top"], 1))
                if segment["x1"] - segment["x0"] > 5 and abs(segment["bottom"] - segment["top"]) < 1 and key not in seen:
                    seen.add(key)
                    rules.append(Rule(number, *key))
        return Printed(len(pdf.pages), lines, rules, float(pdf.pages[0].width) - 15 * 72 / 25.4)


def _line(page: int, chars: list[dict], baseline: float) -> Line:
    text = chars[0]["text"]
    for before, ch in zip(chars, chars[1:]):
        text += (" " if ch["x0"] - before["x1"] > 0.15 * ch["size"] else "") + ch["text"]
    return Line(page, unicodedata.normalize("NFC", text), chars[0]["x0"], chars[-1]["x1"], baseline,
                max(c["size"] for c in chars), all("Bold" in c["fontname"] for c in chars))


# --- fixture: one LibreOffice run for the module -----------------------------------------------------

@dataclass
class Sample:
    layout: Layout  # the DOCX as the checker reads it
    printed: Printed


@pytest.fixture(scope="module")
def samples(_chain_template: Path, gallery: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sample]:
    folder = tmp_path_factory.mktemp("print")
    shutil.copytree(_chain_template, folder / "db")
    engine = make_engine(f"sqlite:///{folder / 'db' / 'vanban.db'}")
    with session_scope(engine) as session:
        documents = documents_to_print(session, folder / "files")
        documents |= registers_to_print(session)
    engine.dispose()
    # the kinds with a shape of their own (Mẫu 1.6, 1.7, 1.9 and the two-party agreements), from the gallery
    documents |= {f"gallery-{kind}": gallery[kind] for kind in ("invitation", "telegram", "minutes", "contract")}
    pdfs = print_to_pdf(documents, folder / "out")
    return {name: Sample(read_layout(data), read_pdf(pdfs[name])) for name, data in documents.items()}


def _documents(samples: dict[str, Sample]) -> dict[str, Sample]:
    return {name: s for name, s in samples.items() if not name.startswith("so-")}


def _words(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


# --- rule lines ----------------------------------------------------------------------------------------

def _underlined(printed: Printed, texts: list[str], column: tuple[float, float] | None = None) -> list[Line]:
    """The printed lines of page 1 that, one after another, print ``texts`` (paragraphs, each perhaps wrapped)."""
    page = [ln for ln in printed.lines if ln.page == 1 and (column is None or column[0] <= ln.centre <= column[1])]
    wanted = [_words(t) for t in texts]
    for start in range(len(page)):
        found, at = [], start
        for text in wanted:
            joined = ""
            while at < len(page) and len(joined) < len(text):
                joined = f"{joined} {page[at].text}".strip()
                found.append(page[at])
                at += 1
            if joined != text:
                break
        else:
            return found
    raise AssertionError(f"{texts} not printed on page 1")


def _rule_under(printed: Printed, lines: list[Line]) -> tuple[Rule, Line | None]:
    """The rule line under the last of ``lines`` (the nearest below it, centred within its extent), and the next
    printed line below the rule that overlaps it."""
    last = lines[-1]
    rule = min((r for r in printed.rules if r.page == last.page and r.y > last.baseline and last.x0 <= r.centre <= last.x1),
               key=lambda r: r.y)
    below = [ln for ln in printed.lines if ln.page == last.page and ln.baseline > rule.y
             and ln.x0 < rule.x1 and ln.x1 > rule.x0]
    return rule, min(below, key=lambda ln: ln.baseline, default=None)


def test_every_rule_line_lies_under_its_text_centred_at_its_length(samples: dict[str, Sample]) -> None:
    """§3.1 (as long as the Tiêu ngữ), §3.2 (1/3–1/2 of the agency name), §3.5 (1/3–1/2 of the trích yếu):
    each rule between its line's descenders and the top of the next line, centred on it."""
    for name, sample in _documents(samples).items():
        layout, printed = sample.layout, sample.printed
        tieu_ngu = _underlined(printed, [TIEU_NGU])
        bold_agency = [p.text for p in layout.agency if all(r.bold for r in p.text_runs)]
        checks = [(tieu_ngu, 1.0, 1.0),
                  (_underlined(printed, bold_agency, (0, tieu_ngu[0].x0)), 1 / 3, 1 / 2)]  # the left column
        if layout.subject is not None:  # a Công văn's V/v line has no rule (§3.5)
            checks.append((_underlined(printed, [layout.subject.text]), 1 / 3, 1 / 2))
        stamp = [ln for ln in printed.lines if ln.page == 1 and ln.text in ("KHẨN", "THƯỢNG KHẨN", "HỎA TỐC")]
        framing = [r for r in printed.rules for ln in stamp  # the box of an urgency stamp (ô 10b) is no rule line
                   if r.page == 1 and r.x0 < ln.x0 and r.x1 > ln.x1 and abs(r.y - ln.baseline) < 2 * ln.size]
        assert len(framing) == 2 * len(stamp), name
        assert len([r for r in printed.rules if r.page == 1 and r not in framing]) == len(checks), name  # no other line
        for lines, low, high in checks:
            rule, below = _rule_under(printed, lines)
            last, widest = lines[-1], max(ln.x1 - ln.x0 for ln in lines)
            where = (name, last.text, rule)
            assert last.baseline + DESCENT_EM * last.size + 1 <= rule.y, where  # clear of the descenders (p, ạ)
            assert below is not None and rule.y < below.top, where  # and above the next line
            assert abs(rule.centre - (last.x0 + last.x1) / 2) <= 1.5, where
            assert low - 0.02 <= (rule.x1 - rule.x0) / widest <= high + 0.02, where


# --- keeping together ----------------------------------------------------------------------------------

def _headings(layout: Layout) -> list[str]:
    """Type name, trích yếu, authority line, 'QUYẾT ĐỊNH:', titled sections and articles: the all-bold paragraphs."""
    return [_words(p.text) for p in layout.paragraphs
            if p.place == "body" and p.text_runs and all(r.bold for r in p.text_runs)]


def test_no_heading_ends_a_page(samples: dict[str, Sample]) -> None:
    """A heading keeps with the paragraph after it: the Báo cáo's 'II. KHÓ KHĂN, VƯỚNG MẮC' no longer ends page 1."""
    for name, sample in _documents(samples).items():
        headings = _headings(sample.layout)
        assert len(headings) >= 2 or sample.layout.type_name is None, name  # at least the type name and trích yếu
        printed = sample.printed
        for page in range(1, printed.pages):
            last = [ln for ln in printed.lines if ln.page == page][-1]
            assert not (last.bold and any(last.text in h for h in headings)), (name, page, last.text)
    report = samples["bao-cao"].printed
    (difficulties,) = [ln for ln in report.lines if ln.text == "II. KHÓ KHĂN, VƯỚNG MẮC"]
    assert any(ln.page == difficulties.page and ln.baseline > difficulties.baseline for ln in report.lines)


def test_the_signer_block_prints_with_the_last_body_paragraph(samples: dict[str, Sample]) -> None:
    """The last body paragraph keeps with the closing table (Nơi nhận | signer, a row that never splits): the plan's
    signer no longer stands alone on page 2."""
    for name, sample in _documents(samples).items():
        printed, layout = sample.printed, sample.layout
        (end,) = [ln for ln in printed.lines if ln.text.endswith("./.")]
        block = layout.signer_lines + [layout.signer_name] if layout.signer_name else \
            [p for column in layout.parties for p in column]  # Biên bản, the agreements: both signatures
        signer = [ln for ln in printed.lines if ln.text in {_words(p.text) for p in block[:-1]}]
        name_line = [ln for ln in printed.lines if ln.text == _words(block[-1].text)]
        noi_nhan = [ln for ln in printed.lines if ln.text == "Nơi nhận:"]
        assert signer and name_line and noi_nhan, name
        assert {ln.page for ln in signer + name_line + noi_nhan} == {end.page}, (name, end.page)
    plan = samples["ke-hoach"].printed
    assert plan.pages == 2 and [ln for ln in plan.lines if ln.page == 2][1].text.startswith("2. Các sở, ban, ngành")


# --- the register book and the page count --------------------------------------------------------------

def test_the_register_book_columns_fit_their_entries(samples: dict[str, Sample]) -> None:
    """Each column is at least as wide as its longest word: no title or entry (a number and symbol, a date) breaks
    inside a word; the table keeps within the text area."""
    for name in ("so-di-sttt", "so-den-ubnd"):
        printed, layout = samples[name].printed, samples[name].layout
        printed_words = {w for ln in printed.lines for w in ln.text.split()}
        cells = [p for p in layout.paragraphs if p.place != "body" and p.text.strip()]
        assert len(cells) >= 3 * 10, name  # the titles, their numbers, an entry at least
        for p in cells:
            assert set(_words(p.text).split()) <= printed_words, (name, p.text)
        grid = [r for r in printed.rules if r.page == 2]
        assert grid and max(r.x1 for r in grid) <= printed.right_margin + 1, name
    outgoing = samples["so-di-sttt"].layout
    assert {"10/TTr-STTTT", "11/KH-STTTT", "12/BC-STTTT"} <= {p.text for p in outgoing.paragraphs}


def test_the_checker_counts_the_pages_libreoffice_prints(samples: dict[str, Sample]) -> None:
    """ND30-PAGE-NUMBER applies from two pages: the checker's estimate from the DOCX agrees with LibreOffice."""
    counts = {name: (s.layout.pages, s.printed.pages) for name, s in samples.items()}
    assert all(estimated == printed for estimated, printed in counts.values()), counts
    assert counts["to-trinh"] == (1, 1) and counts["quyet-dinh"] == (2, 2)
