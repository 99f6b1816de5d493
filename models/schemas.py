"""Input and body schemas (pydantic): what a drafter gives vanban, and the structured body it stores."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from models.document import MAX_ID, DocumentKind, LinkRelation
from models.errors import RuleViolation
from models.kinds import kind_from_text
from models.legal_text import NAME_MAX, AuthorityForm, clean_text, parse_date

Id = Annotated[int, Field(ge=1, le=MAX_ID)]  # a row's id, as the database holds it
TargetType = Literal["agency", "head", "leaders", "unit", "official", "group", "article", "above", "archive"]
_TARGET = re.compile(r"^(agency|head|leaders|unit|official|group|article|above|archive)(?::(.+))?$")


def date_input(value: Any) -> Any:
    """A date field: '04/3/2024' or ISO; the rule broken travels as the error type, pydantic adds the path."""
    if not isinstance(value, str):
        return value
    try:
        return parse_date(value)
    except RuleViolation as exc:
        raise PydanticCustomError(exc.rule, exc.message) from None


def _clean_strings(value: Any, field: str) -> Any:
    """NFC-normalise every string of an input, refusing control characters, whatever its nesting."""
    if isinstance(value, str):
        return clean_text(value, field)
    if isinstance(value, list):
        return [_clean_strings(v, f"{field}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _clean_strings(v, f"{field}.{k}" if field else k) for k, v in value.items()}
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _nfc(cls, data: Any) -> Any:
        return _clean_strings(data, "") if isinstance(data, dict) else data


def _one_item(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


# A list of texts as a clerk writes it in YAML: one "- " line per item, or a plain string for a single item, kept
# whole (never split at its commas). YAML itself splits a bracketed list at every comma ("[… cấp huyện, cấp xã]" is
# two items), so vanban's examples write block lists.
Texts = Annotated[list[str], BeforeValidator(_one_item)]


class Target(Strict):
    """What an addressee line names. Written compactly in YAML as 'group:so-ban-nganh', 'article:3' …"""

    type: TargetType
    code: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        if isinstance(data, str):
            m = _TARGET.match(data.strip())
            if not m:
                raise ValueError(f"'{data}' is not a target such as 'agency:sttt', 'group:so-ban-nganh', 'article:3'")
            return {"type": m[1], "code": m[2]}
        return data

    @model_validator(mode="after")
    def _code_needed(self) -> "Target":
        if self.type not in ("above", "archive") and not self.code:
            raise ValueError(f"a '{self.type}' target needs a code, e.g. '{self.type}:…'")
        return self


class AddresseeIn(Strict):
    """One line as printed (without the leading '- ' and final ';') and what it names."""

    text: str = Field(min_length=1)
    targets: list[Target] = Field(default_factory=list)


class Citation(Strict):
    """One cited instrument. Laws are cited by name and date only (no number, nd30-format.md §3.6)."""

    law: str | None = Field(default=None, description="Name of a law or ordinance, e.g. 'Luật Tổ chức …'")
    type_name: str | None = Field(default=None, description="Type of a cited document, e.g. 'Quyết định'")
    number: str | None = Field(default=None, description="Number and symbol, e.g. '135/QĐ-TTg'")
    date: date
    issuer: str | None = Field(default=None, description="e.g. 'Thủ tướng Chính phủ'")
    subject: str | None = Field(default=None, description="Trích yếu as cited, with its verb: 'phê duyệt Đề án …'")

    _check_date = field_validator("date", mode="before")(date_input)

    @model_validator(mode="after")
    def _shape(self) -> "Citation":
        if self.law:
            if self.number or self.type_name:
                raise ValueError("a law is cited by name and date, without number or type")
        elif not (self.type_name and self.number and self.issuer):
            raise ValueError("a cited document needs type_name, number and issuer")
        elif not re.fullmatch(r"\d+/[^\s/]+(/[^\s/]+)?", self.number):
            raise ValueError(f"number '{self.number}' must look like '135/QĐ-TTg'")
        return self


class Section(Strict):
    """A part of a plan or report: 'I. MỤC ĐÍCH, YÊU CẦU', '1. Mục đích', 'a) …'."""

    label: str
    title: str | None = None
    text: str | None = None
    paragraphs: Texts = Field(default_factory=list)
    children: list[Section] = Field(default_factory=list)


class Article(Strict):
    """An article of a decision: 'Điều 1. …' (number given by order)."""

    number: int | None = None
    title: str | None = None
    text: str | None = None
    note: str | None = Field(default=None, description="Italic line under the article, e.g. '(Kèm theo …)'")
    paragraphs: Texts = Field(default_factory=list)


class Assignment(Strict):
    """A task a decision gives an agency (Điều 2 of the seed): lead, cooperating parties, what, by when."""

    lead: str = Field(description="Agency code of the lead (its head is named)")
    cooperating: str | None = Field(default=None, description="Who cooperates, as printed")
    task: str
    due: date | None = None

    _check_due = field_validator("due", mode="before")(date_input)


class Table(Strict):
    """A table in the body (the list a Phiếu gửi or Phiếu chuyển carries): a header row, then rows as wide."""

    columns: list[str] = Field(min_length=1)
    rows: list[list[str]] = Field(min_length=1)

    @model_validator(mode="after")
    def _widths(self) -> "Table":
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise PydanticCustomError("table.width", f"row {i + 1} has {len(row)} cells for {len(self.columns)} columns")
        return self


Urgency = Literal["KHẨN", "THƯỢNG KHẨN", "HỎA TỐC"]  # ô 10b (Phụ lục I, III.2): chosen by the signer


class Body(Strict):
    """The stored, frozen text structure of a document."""

    proposal: str | None = Field(default=None, description="'Theo đề nghị của …' line of a decision")
    intro: Texts = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    articles: list[Article] = Field(default_factory=list)
    closing: Texts = Field(default_factory=list)
    assignments: list[Assignment] = Field(default_factory=list)
    table: Table | None = None
    form: dict[str, Any] = Field(default_factory=dict, description="The form's values as given (Giấy mời, Biên bản …)")
    urgency: Urgency | None = None


class LinkIn(Strict):
    relation: LinkRelation
    document: Id = Field(description="id of the linked document")


class DocumentCreate(Strict):
    """A draft as a drafter gives it. For a decision, ``approves``, ``responds_to``, ``assignments`` and
    ``executors`` are composed into its articles (see models/composition.py)."""

    kind: DocumentKind = Field(description="Code name ('invitation') or Vietnamese name ('Giấy mời'); see `vanban kinds`")
    issuer: str = Field(description="Agency code")
    drafting_unit: str | None = Field(default=None, description="Unit code of the drafting unit")
    field_abbreviation: str | None = Field(default=None, description="Công văn only: 'VHXH' in UBND-VHXH")
    subject: str = Field(min_length=1, description="Trích yếu")
    competence: Literal["head", "collective"] | None = Field(default=None, description="Quyết định, Nghị quyết, Công điện: "
                                                                                        "whose competence")
    legal_bases: list[list[Citation]] = Field(default_factory=list)
    body: Body = Field(default_factory=Body)
    kinh_gui: list[AddresseeIn] = Field(default_factory=list)
    executors: list[AddresseeIn] = Field(default_factory=list)
    recipients: list[AddresseeIn] = Field(default_factory=list)
    links: list[LinkIn] = Field(default_factory=list)
    approves: Id | None = Field(default=None, description="Decision: id of the document it approves")
    responds_to: Id | None = Field(default=None, description="Decision: id of the submission it answers")
    effective: str | None = Field(default=None, description="Decision: 'kể từ ngày ký'")
    form: dict[str, Any] = Field(default_factory=dict, description="The labelled values of a form: a Giấy mời's time, "
                                                                   "place and invitees; a Biên bản's … (`vanban kinds`)")
    urgency: Urgency | None = Field(default=None, description="Độ khẩn (ô 10b)")
    signer: str | None = Field(default=None, description="Official code of the intended signer")
    authority_form: AuthorityForm | None = None
    dated: date | None = Field(default=None, description="The day the draft is written for: drafting and signing use "
                                                          "the directory as it stands that day (default: today)")
    is_sample: bool = False

    _check_dated = field_validator("dated", mode="before")(date_input)

    @field_validator("subject")
    @classmethod
    def _subject_fits(cls, value: str) -> str:
        if len(value) > NAME_MAX:
            raise PydanticCustomError("text.too-long", "is {length} characters long; at most {limit}: the DOCX core "
                                      "properties, where the trích yếu is kept, hold no more",
                                      {"length": len(value), "limit": NAME_MAX})
        return value

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        if isinstance(value, str) and (kind := kind_from_text(value)) is not None:
            return kind
        if isinstance(value, str):
            raise PydanticCustomError("kind.unknown", f"'{value}' is not a kind of Decree 30 Điều 7; `vanban kinds` lists them")
        return value
