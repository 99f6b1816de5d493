"""Where the sentences of a document are composed from data: citations, the 'Theo đề nghị' line,
the approving article and its '(Kèm theo …)' line, assignments, the executing article, the lines of a form.

Pure functions over plain values; the drafting service resolves the data and stores the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from string import Formatter
from typing import Any

from models.kinds import FieldType, FormField
from models.legal_text import (
    clean_text, date_words, join_parties, list_items, lower_first, parse_date, parse_datetime, short_date, time_words,
    upper,
)
from models.schemas import Assignment, Citation


def head_phrase(head_title: str, agency_name: str) -> str:
    """'Giám đốc Sở Thông tin và Truyền thông'."""
    return f"{head_title} {agency_name}"


def cite(c: Citation) -> str:
    """'Quyết định số 135/QĐ-TTg ngày 20/01/2020 của Thủ tướng Chính phủ phê duyệt …'; a law: name + date."""
    if c.law:
        return f"{c.law} ngày {short_date(c.date)}"
    text = f"{c.type_name} số {c.number} ngày {short_date(c.date)} của {c.issuer}"
    return f"{text} {c.subject}" if c.subject else text


def basis_lines(bases: Sequence[Sequence[Citation]], *, closes: bool) -> list[str]:
    """'Căn cứ …;' lines; the last ends with '.' when nothing follows it (``closes``)."""
    lines = [f"Căn cứ {'; '.join(cite(c) for c in line)};" for line in bases]
    if closes and lines:
        lines[-1] = lines[-1][:-1] + "."
    return lines


def reference(type_name: str, number_symbol: str, issued_on: date) -> str:
    """'Tờ trình số 10/TTr-STTTT ngày 20/02/2024'."""
    return f"{type_name} số {number_symbol} ngày {short_date(issued_on)}"


def proposal_line(proposer: str, submission_ref: str) -> str:
    """'Theo đề nghị của Giám đốc Sở … tại Tờ trình số 10/TTr-STTTT ngày 20/02/2024.'"""
    return f"Theo đề nghị của {proposer} tại {submission_ref}."


def competence_line(competence: str, head_title: str, agency_name: str) -> str:
    """The authority line under a decision's title: the head's title or the collective's name, upper case."""
    return upper(head_phrase(head_title, agency_name) if competence == "head" else agency_name)


def approve_text(type_name: str, subject: str) -> str:
    """'Phê duyệt Kế hoạch thực hiện Chiến lược … năm 2024.'"""
    return f"Phê duyệt {type_name} {lower_first(subject)}."


def attached_note(document_ref: str, author: str) -> str:
    """'(Kèm theo Kế hoạch số 11/KH-STTTT ngày 20/02/2024 của Giám đốc Sở …)'."""
    return f"(Kèm theo {document_ref} của {author})"


def assignment_text(a: Assignment, lead_phrase: str) -> str:
    """'Giao Giám đốc Sở … chủ trì, phối hợp với … triển khai thực hiện Kế hoạch và báo cáo kết quả thực hiện.'"""
    coop = f", phối hợp với {a.cooperating}" if a.cooperating else ""
    return f"Giao {lead_phrase} chủ trì{coop} {a.task.rstrip('.')}."


def executors_text(parties: Sequence[str], kind_name: str) -> str:
    """'A; B; … và Z chịu trách nhiệm thi hành Quyết định này.'"""
    return f"{join_parties(parties)} chịu trách nhiệm thi hành {kind_name} này."


def effective_text(kind_name: str, effective: str) -> str:
    """'Quyết định có hiệu lực thi hành kể từ ngày ký.'"""
    return f"{kind_name} có hiệu lực thi hành {effective.rstrip('.')}."


def form_value(field: FormField, raw: Any, where: str) -> str | list[str]:
    """A form's value as printed: dates and times in words (nd30-format.md §3.4), several items as a list.

    One string is one item, commas and all ('cấp huyện, cấp xã'); several items are a list."""
    if field.type is FieldType.TEXTS:
        items = raw if isinstance(raw, list) else [raw]
        return [clean_text(str(item), f"{where}[{i}]") for i, item in enumerate(items)]
    if field.type is FieldType.DATE:
        return date_words(raw if isinstance(raw, date) else parse_date(str(raw), where))
    if field.type is FieldType.DATETIME:
        return time_words(raw if isinstance(raw, datetime) else parse_datetime(str(raw), where))
    return clean_text(str(raw), where)


def form_lines(templates: Sequence[str], values: Mapping[str, str | list[str]]) -> list[str]:
    """The lines of a form from its kind's templates ('Thời gian: {time}.'); a line naming an empty value is left
    out. A list of one item runs on its line; of several, the line stops at its colon and the items follow as
    '- item;' lines, the last with '.' (as Kính gửi lists them, nd30-format.md §3.9)."""
    lines: list[str] = []
    for template in templates:
        keys = [name for _text, name, _spec, _conv in Formatter().parse(template) if name]
        if any(not values.get(key) for key in keys):
            continue
        listed = next((key for key in keys if isinstance(values[key], list)), None)
        if listed is None:
            lines.append(template.format(**values))
            continue
        lead = template.split("{" + listed + "}")[0].format(**values).rstrip()
        items = values[listed]
        if len(items) == 1:
            lines.append(f"{lead} {items[0].rstrip(';.')}.")
        else:
            lines.append(lead)
            lines.extend(list_items(items))
    return lines
