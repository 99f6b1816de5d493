"""The Decree 30 text rules, exhaustively where the domain is small (every day and month)."""

from __future__ import annotations

import calendar
import unicodedata
from datetime import date

import pytest

from models.errors import RuleViolation
from models.legal_text import (
    COPY_ABBREVIATIONS, TEXT_MAX, TYPE_ABBREVIATIONS, AuthorityForm, ascii_fold, check_abbreviation, clean_text,
    date_line, file_stem, join_parties, list_items, make_date, number_line, number_symbol, pad2, parse_date,
    refused_character, short_date, signer_block, symbol, with_end_mark,
)


@pytest.mark.parametrize("month", range(1, 13))
def test_date_line_pads_day_below_10_and_only_months_1_and_2(month: int) -> None:
    for day in range(1, calendar.monthrange(2024, month)[1] + 1):
        line = date_line("Vĩnh Long", date(2024, month, day))
        day_text = f"0{day}" if day < 10 else str(day)
        month_text = f"0{month}" if month in (1, 2) else str(month)
        assert line == f"Vĩnh Long, ngày {day_text} tháng {month_text} năm 2024"
        assert short_date(date(2024, month, day)) == f"{day_text}/{month_text}/2024"


def test_seed_dates() -> None:
    assert date_line("Vĩnh Long", date(2024, 3, 4)) == "Vĩnh Long, ngày 04 tháng 3 năm 2024"
    assert date_line("Hà Nội", date(2020, 1, 5)) == "Hà Nội, ngày 05 tháng 01 năm 2020"
    assert date_line("Thành phố Hồ Chí Minh", date(2019, 6, 29)) == "Thành phố Hồ Chí Minh, ngày 29 tháng 6 năm 2019"
    assert short_date(date(2021, 9, 7)) == "07/9/2021"
    assert short_date(date(2024, 2, 20)) == "20/02/2024"
    assert short_date(date(2015, 6, 19)) == "19/6/2015"
    assert short_date(date(2019, 11, 22)) == "22/11/2019"


def test_draft_date_line_is_blank() -> None:
    assert date_line("Vĩnh Long", None) == "Vĩnh Long, ngày      tháng      năm"


@pytest.mark.parametrize("n, text", [(1, "01"), (5, "05"), (9, "09"), (10, "10"), (11, "11"), (99, "99"), (374, "374")])
def test_numbers_below_10_take_a_leading_zero(n: int, text: str) -> None:
    assert pad2(n) == text
    assert number_symbol(n, "QĐ-UBND") == f"{text}/QĐ-UBND"


def test_number_lines() -> None:
    assert number_line(374, "QĐ-UBND") == "Số: 374/QĐ-UBND"
    assert number_line(5, "UBND-VHXH") == "Số: 05/UBND-VHXH"
    assert number_line(None, "QĐ-UBND") == "Số:      /QĐ-UBND"
    with pytest.raises(RuleViolation) as exc:
        number_symbol(0, "QĐ-UBND")
    assert exc.value.rule == "number.positive"


def test_symbols() -> None:
    assert symbol("QĐ", "UBND") == "QĐ-UBND"
    assert symbol("TTr", "STTTT") == "TTr-STTTT"
    assert symbol(None, "UBND", "VHXH") == "UBND-VHXH"  # Công văn: agency + field, no type
    with pytest.raises(RuleViolation) as exc:
        symbol("CV", "UBND")  # no such abbreviation in Phụ lục III
    assert (exc.value.field, exc.value.rule) == ("kind", "symbol.type")
    with pytest.raises(RuleViolation) as exc:
        symbol(None, "UBND")
    assert exc.value.rule == "symbol.cong-van"
    with pytest.raises(RuleViolation) as exc:
        check_abbreviation("Ubnd", "field_abbreviation")
    assert exc.value.field == "field_abbreviation"
    assert check_abbreviation("SKHĐT", "x") == "SKHĐT"


def test_phu_luc_iii_table() -> None:
    assert len(TYPE_ABBREVIATIONS) == 27
    assert TYPE_ABBREVIATIONS["Quy định"] == "QyĐ"
    assert TYPE_ABBREVIATIONS["Chương trình"] == "CTr"
    assert TYPE_ABBREVIATIONS["Tờ trình"] == "TTr"
    assert TYPE_ABBREVIATIONS["Đề án"] == "ĐA" and TYPE_ABBREVIATIONS["Dự án"] == "DA"
    assert "Công văn" not in TYPE_ABBREVIATIONS and "Thư công" not in TYPE_ABBREVIATIONS
    assert COPY_ABBREVIATIONS == {"Bản sao y": "SY", "Bản trích sao": "TrS", "Bản sao lục": "SL"}
    assert len(set(TYPE_ABBREVIATIONS.values())) == 27
    for abbreviation in TYPE_ABBREVIATIONS.values():
        assert unicodedata.is_normalized("NFC", abbreviation)


def test_file_stem_is_ascii() -> None:
    assert file_stem(374, "QĐ-UBND") == "374-QD-UBND"
    assert file_stem(10, "TTr-STTTT") == "10-TTr-STTTT"
    assert file_stem(5, "QyĐ-SKHĐT") == "05-QyD-SKHDT"
    assert ascii_fold("Vĩnh Long Đồng") == "Vinh Long Dong"


@pytest.mark.parametrize("form, signer_title, unit_head_title, expected", [
    (AuthorityForm.HEAD, "Chủ tịch", None, ["CHỦ TỊCH"]),
    (AuthorityForm.TM, "Chủ tịch", None, ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]),
    (AuthorityForm.KT, "Phó Chủ tịch", None, ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]),
    (AuthorityForm.TM_KT, "Phó Chủ tịch", None, ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]),
    # §3.7: 'Q. GIÁM ĐỐC' then the name; the acting head's own title is not printed
    (AuthorityForm.Q, "Phó Chủ tịch", None, ["Q. CHỦ TỊCH"]),
    (AuthorityForm.TL, "Chánh Văn phòng", None, ["TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG"]),
    (AuthorityForm.TL, "Phó Chánh Văn phòng", "Chánh Văn phòng",
     ["TL. CHỦ TỊCH", "KT. CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG"]),
    (AuthorityForm.TUQ, "Giám đốc Sở Tư pháp", None, ["TUQ. CHỦ TỊCH", "GIÁM ĐỐC SỞ TƯ PHÁP"]),
])
def test_signer_block_every_form(form: AuthorityForm, signer_title: str, unit_head_title: str | None,
                                 expected: list[str]) -> None:
    assert signer_block(form, head_title="Chủ tịch", signer_title=signer_title, collective="Ủy ban nhân dân",
                        unit_head_title=unit_head_title) == expected


def test_signer_block_examples() -> None:
    assert signer_block(AuthorityForm.TM, head_title="Chủ tịch", signer_title="Chủ tịch",
                        collective="Ủy ban nhân dân") == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]
    assert signer_block(AuthorityForm.HEAD, head_title="Giám đốc", signer_title="Giám đốc") == ["GIÁM ĐỐC"]
    assert signer_block(AuthorityForm.TL, head_title="Chủ tịch", signer_title="Chánh Văn phòng") == ["TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG"]
    with pytest.raises(RuleViolation) as exc:
        signer_block(AuthorityForm.TM, head_title="Chủ tịch", signer_title="Chủ tịch")
    assert exc.value.rule == "signer.collective"
    with pytest.raises(RuleViolation) as exc:  # a deputy cannot sign as the head
        signer_block(AuthorityForm.HEAD, head_title="Chủ tịch", signer_title="Phó Chủ tịch")
    assert exc.value.rule == "signer.head"


def test_clean_text_normalises_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Quyết định Ủy ban")
    assert decomposed != "Quyết định Ủy ban"
    assert clean_text(decomposed, "subject") == "Quyết định Ủy ban"
    assert clean_text("  a  ", "x") == "a"


@pytest.mark.parametrize("bad", ["a\x00b", "a\x07", "tab\tinside", "a\x1bb", "zero\u200bwidth", "nl\nx"])
def test_clean_text_refuses_control_characters(bad: str) -> None:
    with pytest.raises(RuleViolation) as exc:
        clean_text(bad, "subject")
    assert (exc.value.field, exc.value.rule) == ("subject", "text.control-characters")


@pytest.mark.parametrize("bad", ["\u202eright-to-left override", "soft\u00adhyphen", "word\u2060joiner",
                                 "\u2066isolate\u2069", "\u202aembedding", "tag\U000e0041", "\u061c", "bom\ufeff"])
def test_clean_text_refuses_invisible_format_characters(bad: str) -> None:
    with pytest.raises(RuleViolation) as exc:
        clean_text(bad, "subject")
    assert (exc.value.field, exc.value.rule) == ("subject", "text.control-characters")
    char = next(c for c in bad if unicodedata.category(c) == "Cf")
    assert f"U+{ord(char):04X} {unicodedata.name(char)}" in exc.value.message


@pytest.mark.parametrize("bad", ["\ufffe", "\uffff", "a\ufdd0", "\ufdef", "\U0001fffe", "\U0010ffff", "\ud800"])
def test_clean_text_refuses_noncharacters(bad: str) -> None:
    with pytest.raises(RuleViolation) as exc:
        clean_text(bad, "subject")
    assert (exc.value.field, exc.value.rule) == ("subject", "text.noncharacters")


def test_the_refused_characters_are_every_control_format_and_noncharacter_of_unicode() -> None:
    """The list in legal_text is written out (a regular expression built at import would cost every start): it
    must hold every Cc and Cf character of the Unicode database, the separators, the noncharacters and the
    surrogates, and nothing a Vietnamese text needs."""
    missed = [f"U+{cp:04X}" for cp in range(0x110000)
              if (unicodedata.category(chr(cp)) in ("Cc", "Cf", "Cs", "Zl", "Zp")
                  or 0xFDD0 <= cp <= 0xFDEF or cp & 0xFFFE == 0xFFFE)
              and cp not in (9, 10) and refused_character(chr(cp)) is None]
    assert missed == []
    text = "Độc lập - Tự do - Hạnh phúc; Quyết định số 374/QĐ-UBND ngày 04/3/2024 (đồng, %, §, «», –, …)"
    assert refused_character(unicodedata.normalize("NFD", text) + text) is None
    assert refused_character("a\tb\nc") is not None and refused_character("a\tb\nc", allowed="\t\n") is None


def test_text_longer_than_its_limit_is_refused() -> None:
    assert clean_text("x" * TEXT_MAX, "body") == "x" * TEXT_MAX
    with pytest.raises(RuleViolation) as exc:
        clean_text("x" * (TEXT_MAX + 1), "body")
    assert (exc.value.field, exc.value.rule) == ("body", "text.too-long")
    with pytest.raises(RuleViolation) as exc:
        clean_text("x" * 65, "code", max_length=64)
    assert exc.value.message == "is 65 characters long; at most 64"


def test_multiline_text_keeps_newlines() -> None:
    assert clean_text("ỦY BAN NHÂN DÂN\nTỈNH VĨNH LONG", "header_name", multiline=True) == "ỦY BAN NHÂN DÂN\nTỈNH VĨNH LONG"


def test_impossible_dates_are_named() -> None:
    with pytest.raises(RuleViolation) as exc:
        make_date(2024, 2, 30, "issued_on")
    assert (exc.value.field, exc.value.rule) == ("issued_on", "date.exists")
    with pytest.raises(RuleViolation) as exc:
        parse_date("30/02/2024", "legal_bases[0][0].date")
    assert exc.value.field == "legal_bases[0][0].date"
    with pytest.raises(RuleViolation) as exc:
        parse_date("next tuesday", "date")
    assert exc.value.rule == "date.format"
    assert parse_date("29/02/2024") == date(2024, 2, 29)
    assert parse_date("2024-03-04") == date(2024, 3, 4)
    assert parse_date("4/3/2024") == date(2024, 3, 4)


def test_join_and_lists_and_end_mark() -> None:
    assert join_parties(["A", "B", "C"]) == "A; B và C"
    assert join_parties(["A"]) == "A"
    assert list_items(["Như Điều 3", "Lưu: VT, 3.30.05"]) == ["- Như Điều 3;", "- Lưu: VT, 3.30.05."]
    assert with_end_mark("kể từ ngày ký.") == "kể từ ngày ký./."
    assert with_end_mark("kể từ ngày ký") == "kể từ ngày ký./."
    assert with_end_mark("xong./.") == "xong./."
