"""The kinds of văn bản hành chính (Decree 30/2020/NĐ-CP Điều 7) and the parts each one has: one table.

Each row says what Phụ lục III shows for the kind (docs/kinds.md gives the reading, sample by sample): its type name
and abbreviation (Phụ lục III Mục I), which sample (Mẫu) lays it out, and its parts: a type name with a trích yếu,
the type name alone or a "V/v" line; căn cứ or none; articles (Điều) or numbered sections (I., 1., a)); Kính gửi
(or, for a Công điện, the "… điện:" line); a table; the labelled lines of a form (Giấy mời, Giấy giới thiệu,
Giấy nghỉ phép, Biên bản, the two-party kinds); the signatures of two parties. Drafting, rendering and checking
read this table; no code branches on a kind's name.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum


class DocumentKind(str, Enum):
    """The 29 kinds of Điều 7, as English code names; the Vietnamese names are in KINDS."""

    RESOLUTION = "resolution"  # Nghị quyết (cá biệt)
    DECISION = "decision"  # Quyết định (cá biệt)
    DIRECTIVE = "directive"  # Chỉ thị
    REGULATION = "regulation"  # Quy chế
    RULES = "rules"  # Quy định
    COMMUNIQUE = "communique"  # Thông cáo
    NOTICE = "notice"  # Thông báo
    GUIDANCE = "guidance"  # Hướng dẫn
    PROGRAMME = "programme"  # Chương trình
    PLAN = "plan"  # Kế hoạch
    ACTION_SCHEME = "action_scheme"  # Phương án
    SCHEME = "scheme"  # Đề án
    PROJECT = "project"  # Dự án
    REPORT = "report"  # Báo cáo
    MINUTES = "minutes"  # Biên bản
    SUBMISSION = "submission"  # Tờ trình
    CONTRACT = "contract"  # Hợp đồng
    OFFICIAL_LETTER = "official_letter"  # Công văn
    TELEGRAM = "telegram"  # Công điện
    MEMORANDUM = "memorandum"  # Bản ghi nhớ
    AGREEMENT = "agreement"  # Bản thỏa thuận
    AUTHORISATION = "authorisation"  # Giấy ủy quyền
    INVITATION = "invitation"  # Giấy mời
    INTRODUCTION = "introduction"  # Giấy giới thiệu
    LEAVE_PERMIT = "leave_permit"  # Giấy nghỉ phép
    DISPATCH_SLIP = "dispatch_slip"  # Phiếu gửi
    TRANSFER_SLIP = "transfer_slip"  # Phiếu chuyển
    NOTICE_SLIP = "notice_slip"  # Phiếu báo
    PUBLIC_LETTER = "public_letter"  # Thư công


class Presence(str, Enum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    NONE = "none"


class Heading(str, Enum):
    TITLE = "title"  # type name and trích yếu, centred, rule line under it (ô 5a)
    TYPE_ONLY = "type-only"  # the type name alone: the form says what it is about (Giấy giới thiệu, Giấy nghỉ phép)
    VV = "vv"  # no type name; "V/v …" under the number (ô 5b, Công văn)
    NONE = "none"  # neither (Thư công: a letter opens with its salutation)


class FieldType(str, Enum):
    TEXT = "text"
    TEXTS = "texts"  # one or more items: a block list, or one string that stays one item
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True)
class FormField:
    """A value a form asks for: its key in the spec's ``form``, what it is called on paper, its type."""

    key: str
    label: str
    type: FieldType = FieldType.TEXT
    required: bool = True


@dataclass(frozen=True)
class Party:
    """One column of a two-party signature: its label line, and whose signature it is. ``who`` is 'signer' (the
    issuer's signer, with his authority block unless the kind is signed in person) or the key of a form field
    giving the other party's name (and ``title_key`` its title)."""

    label: str
    who: str = "signer"
    title_key: str | None = None


@dataclass(frozen=True)
class Kind:
    """One row of the table. Placeholders in ``address_lead`` and ``lines_*``: {issuer} (the issuer's name),
    {head} (its head's title and name), {sender} (the sender of a Công điện, upper case), {signer} (the signer's
    name and title), and any form field key; a line naming an empty optional field is left out."""

    kind: DocumentKind
    name: str  # Điều 7
    abbreviation: str | None  # Phụ lục III Mục I; Công văn and Thư công have none
    sample: str  # the Phụ lục III sample that lays it out
    heading: Heading = Heading.TITLE
    bases: Presence = Presence.NONE  # căn cứ
    articles: bool = False  # Điều 1., Điều 2. …; otherwise sections I., 1., a)
    decides: str | None = None  # "QUYẾT ĐỊNH:" after the authority line and căn cứ (Mẫu 1.1–1.3)
    competence: tuple[str, ...] = ()  # whose competence it may use: 'head', 'collective'
    kinh_gui: Presence = Presence.NONE
    address_lead: str = "Kính gửi:"
    address_own_line: bool = False  # the lead stands centred on its own line, the addressees under it (Công điện)
    table: Presence = Presence.NONE
    form: tuple[FormField, ...] = ()
    lines_before: tuple[str, ...] = ()  # the form's lines before the body
    lines_after: tuple[str, ...] = ()  # and after it
    parties: tuple[Party, Party] | None = None  # two signatures side by side: left, right
    in_person: bool = False  # signed in the signer's own name under the party label (Biên bản), no TM./KT.
    date_line: bool = True  # place and date of issue (ô 4)
    notes: str = ""  # where the row departs from a sample, or where no sample exists

    @property
    def numbered_like_letter(self) -> bool:
        """No abbreviation: the symbol is the agency's and the unit's or field's (Công văn, Phụ lục III Mục I)."""
        return self.abbreviation is None

    def field(self, key: str) -> FormField | None:
        return next((f for f in self.form if f.key == key), None)


_TYPED = "Mẫu 1.4"  # the shared layout of the kinds with a type name (Phụ lục III, note 6 of Mẫu 1.4)
_OTHER_PARTY = (
    FormField("party_b", "Bên B"),
    FormField("party_b_representative", "Đại diện Bên B"),
    FormField("party_b_title", "Chức vụ"),
)
_TWO_PARTIES = (Party("ĐẠI DIỆN BÊN A"), Party("ĐẠI DIỆN BÊN B", "party_b_representative", "party_b_title"))
_PARTY_LINES = ("Bên A: {issuer}", "Bên B: {party_b}")

KINDS: dict[DocumentKind, Kind] = {k.kind: k for k in (
    Kind(DocumentKind.RESOLUTION, "Nghị quyết", "NQ", "Mẫu 1.1", bases=Presence.REQUIRED, articles=True,
         decides="QUYẾT NGHỊ:", competence=("collective",)),
    Kind(DocumentKind.DECISION, "Quyết định", "QĐ", "Mẫu 1.2, 1.3", bases=Presence.REQUIRED, articles=True,
         decides="QUYẾT ĐỊNH:", competence=("head", "collective")),
    Kind(DocumentKind.DIRECTIVE, "Chỉ thị", "CT", _TYPED),
    Kind(DocumentKind.REGULATION, "Quy chế", "QC", _TYPED, articles=True),
    Kind(DocumentKind.RULES, "Quy định", "QyĐ", _TYPED, articles=True),
    Kind(DocumentKind.COMMUNIQUE, "Thông cáo", "TC", _TYPED),
    Kind(DocumentKind.NOTICE, "Thông báo", "TB", _TYPED),
    Kind(DocumentKind.GUIDANCE, "Hướng dẫn", "HD", _TYPED, bases=Presence.OPTIONAL),
    Kind(DocumentKind.PROGRAMME, "Chương trình", "CTr", _TYPED, bases=Presence.OPTIONAL),
    Kind(DocumentKind.PLAN, "Kế hoạch", "KH", _TYPED, bases=Presence.OPTIONAL),
    Kind(DocumentKind.ACTION_SCHEME, "Phương án", "PA", _TYPED, bases=Presence.OPTIONAL),
    Kind(DocumentKind.SCHEME, "Đề án", "ĐA", _TYPED, bases=Presence.OPTIONAL),
    Kind(DocumentKind.PROJECT, "Dự án", "DA", _TYPED, bases=Presence.OPTIONAL),
    Kind(DocumentKind.REPORT, "Báo cáo", "BC", _TYPED, bases=Presence.OPTIONAL, kinh_gui=Presence.OPTIONAL,
         notes="Kính gửi when sent upward (Phụ lục I, II.9.b)"),
    Kind(DocumentKind.MINUTES, "Biên bản", "BB", "Mẫu 1.9", date_line=False, in_person=True,
         form=(FormField("started", "Thời gian bắt đầu", FieldType.DATETIME), FormField("place", "Địa điểm"),
               FormField("attendees", "Thành phần tham dự", FieldType.TEXTS),
               FormField("secretary", "Thư ký (người ghi biên bản)"),
               FormField("ended", "Thời gian kết thúc", FieldType.DATETIME)),
         lines_before=("Thời gian bắt đầu: {started}.", "Địa điểm: {place}.", "Thành phần tham dự: {attendees}",
                       "Chủ trì (chủ tọa): {signer}.", "Thư ký (người ghi biên bản): {secretary}.",
                       "Nội dung (theo diễn biến cuộc họp/hội nghị/hội thảo):"),
         lines_after=("Cuộc họp (hội nghị, hội thảo) kết thúc vào {ended}.",),
         parties=(Party("THƯ KÝ", "secretary"), Party("CHỦ TỌA"))),
    Kind(DocumentKind.SUBMISSION, "Tờ trình", "TTr", _TYPED, bases=Presence.OPTIONAL, kinh_gui=Presence.REQUIRED),
    Kind(DocumentKind.CONTRACT, "Hợp đồng", "HĐ", "none (laid out as Mẫu 1.4)", bases=Presence.OPTIONAL,
         articles=True, form=_OTHER_PARTY, lines_before=_PARTY_LINES, parties=_TWO_PARTIES,
         notes="Phụ lục III draws no Hợp đồng; both parties sign, as Điều 7 names it among the two-party kinds"),
    Kind(DocumentKind.OFFICIAL_LETTER, "Công văn", None, "Mẫu 1.5", heading=Heading.VV, kinh_gui=Presence.REQUIRED),
    Kind(DocumentKind.TELEGRAM, "Công điện", "CĐ", "Mẫu 1.6", kinh_gui=Presence.REQUIRED, competence=("head", "collective"),
         address_lead="{sender} điện:",
         address_own_line=True),
    Kind(DocumentKind.MEMORANDUM, "Bản ghi nhớ", "BGN", "none (laid out as Mẫu 1.4)", bases=Presence.OPTIONAL,
         articles=True, form=_OTHER_PARTY, lines_before=_PARTY_LINES, parties=_TWO_PARTIES,
         notes="no sample in Phụ lục III; both parties sign"),
    Kind(DocumentKind.AGREEMENT, "Bản thỏa thuận", "BTT", "none (laid out as Mẫu 1.4)", bases=Presence.OPTIONAL,
         articles=True, form=_OTHER_PARTY, lines_before=_PARTY_LINES, parties=_TWO_PARTIES,
         notes="no sample in Phụ lục III; both parties sign"),
    Kind(DocumentKind.AUTHORISATION, "Giấy ủy quyền", "GUQ", _TYPED, bases=Presence.OPTIONAL),
    Kind(DocumentKind.INVITATION, "Giấy mời", "GM", "Mẫu 1.7",
         form=(FormField("invitees", "Kính mời", FieldType.TEXTS), FormField("event", "Tới dự", required=False),
               FormField("time", "Thời gian", FieldType.DATETIME), FormField("place", "Địa điểm")),
         lines_before=("{issuer} trân trọng kính mời: {invitees}", "Tới dự {event}.", "Thời gian: {time}.",
                       "Địa điểm: {place}.")),
    Kind(DocumentKind.INTRODUCTION, "Giấy giới thiệu", "GGT", "Mẫu 1.8", heading=Heading.TYPE_ONLY,
         form=(FormField("person", "Ông (bà)"), FormField("position", "Chức vụ"),
               FormField("destination", "Được cử đến"), FormField("purpose", "Về việc"),
               FormField("valid_until", "Có giá trị đến", FieldType.DATE)),
         lines_before=("{issuer} trân trọng giới thiệu:", "Ông (bà): {person}.", "Chức vụ: {position}.",
                       "Được cử đến: {destination}.", "Về việc: {purpose}."),
         lines_after=("Đề nghị Quý cơ quan tạo điều kiện để ông (bà) có tên ở trên hoàn thành nhiệm vụ.",
                      "Giấy này có giá trị đến hết {valid_until}.")),
    Kind(DocumentKind.LEAVE_PERMIT, "Giấy nghỉ phép", "GNP", "Mẫu 1.10", heading=Heading.TYPE_ONLY,
         form=(FormField("request_date", "Ngày đơn đề nghị", FieldType.DATE), FormField("person", "Ông (bà)"),
               FormField("position", "Chức vụ"), FormField("year", "Nghỉ phép năm"),
               FormField("start", "Từ ngày", FieldType.DATE), FormField("end", "Đến hết ngày", FieldType.DATE),
               FormField("place", "Nơi nghỉ phép")),
         lines_before=("Xét Đơn đề nghị nghỉ phép {request_date} của ông (bà) {person},", "{head} cấp cho:",
                       "Ông (bà): {person}.", "Chức vụ: {position}.",
                       "Được nghỉ phép năm {year} kể từ {start} đến hết {end}.", "Tại: {place}.")),
    Kind(DocumentKind.DISPATCH_SLIP, "Phiếu gửi", "PG", _TYPED, kinh_gui=Presence.OPTIONAL, table=Presence.REQUIRED,
         notes="the table lists what is sent"),
    Kind(DocumentKind.TRANSFER_SLIP, "Phiếu chuyển", "PC", _TYPED, kinh_gui=Presence.OPTIONAL, table=Presence.REQUIRED,
         notes="the table lists what is passed on"),
    Kind(DocumentKind.NOTICE_SLIP, "Phiếu báo", "PB", _TYPED, kinh_gui=Presence.OPTIONAL, table=Presence.OPTIONAL),
    Kind(DocumentKind.PUBLIC_LETTER, "Thư công", None, "none", heading=Heading.NONE, kinh_gui=Presence.REQUIRED,
         notes="no sample and no abbreviation: numbered as a Công văn (agency and unit), opens with Kính gửi"),
)}

assert len(KINDS) == len(DocumentKind) == 29  # Điều 7 lists 29 kinds


def type_name(kind: DocumentKind) -> str:
    """'Quyết định'."""
    return KINDS[kind].name


def kind_from_text(text: str) -> DocumentKind | None:
    """A kind by its code name ('invitation') or its Vietnamese name in any case ('Giấy mời'); None if neither."""
    key = unicodedata.normalize("NFC", text.strip()).casefold()
    for k in KINDS.values():
        if key in (k.kind.value, k.name.casefold()):
            return k.kind
    return None
