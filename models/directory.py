"""Directory: agencies (cơ quan), their units (đơn vị), officials (cán bộ) and signing authority (thẩm quyền ký)."""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.document import enum_type
from models.legal_text import AuthorityForm


class Agency(SQLModel, table=True):
    """A state agency that issues or receives documents (UBND tỉnh, Sở TTTT, UBND huyện …)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, description="Directory code, e.g. 'sttt'")
    name: str = Field(description="Official full name, e.g. 'Sở Thông tin và Truyền thông'")
    abbreviation: str = Field(description="Abbreviation used in ký hiệu, e.g. 'STTTT', 'UBND'")
    header_name: str = Field(description="Ô 2 as printed (upper case); lines separated by '\\n'")
    header_as_parent: str | None = Field(default=None, description="How it is printed as a parent, 'UBND TỈNH VĨNH LONG'")
    place: str = Field(description="Place name of the date line, e.g. 'Vĩnh Long'")
    parent_id: int | None = Field(default=None, foreign_key="agency.id")
    head_title: str = Field(description="Title of its head: 'Chủ tịch', 'Giám đốc' …")
    collective_name: str | None = Field(default=None, description="Collective body for TM. signing: 'Ủy ban nhân dân'")
    category: str = Field(default="agency", description="province-committee, office, department, district-committee …")
    is_sample: bool = False


class AgencyGroup(SQLModel, table=True):
    """A named set of agencies that a Nơi nhận line can address at once ('các sở, ban, ngành tỉnh')."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    name: str


class AgencyGroupMember(SQLModel, table=True):
    group_id: int = Field(foreign_key="agencygroup.id", primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", primary_key=True)


class Unit(SQLModel, table=True):
    """An internal unit of an agency (P.VHXH, TT.PVHCC, VT …)."""

    __table_args__ = (UniqueConstraint("agency_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    code: str = Field(description="Abbreviation as written in Nơi nhận, e.g. 'P.VHXH'")
    name: str


class Official(SQLModel, table=True):
    """A person holding a position (placeholder names in the sample data)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    full_name: str
    title: str = Field(description="Position, e.g. 'Phó Chủ tịch'")
    agency_id: int = Field(foreign_key="agency.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    is_head: bool = False
    is_leader: bool = Field(default=False, description="Part of the agency's leadership (lãnh đạo)")
    portfolio: str | None = Field(default=None, description="Field in charge, e.g. 'VHXH'")
    is_sample: bool = False


class SigningAuthority(SQLModel, table=True):
    """Who may sign which kinds of document for which agency, and in which form (nd30-format.md §3.7)."""

    id: int | None = Field(default=None, primary_key=True)
    official_id: int = Field(foreign_key="official.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    kinds: str = Field(default="*", description="Comma-separated document kinds, or '*' for all")
    form: AuthorityForm = Field(sa_type=enum_type(AuthorityForm))

    def covers(self, kind: str) -> bool:
        return self.kinds == "*" or kind in self.kinds.split(",")
