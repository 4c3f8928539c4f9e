"""Shapes of resident data going in and out of the API."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from renxing.bounds import Day, Id
from renxing.web.schemas import FieldErrorOut


class ResidentIn(BaseModel):
    """A resident as staff enter it. Birth date and gender come from the ID number when missing."""

    model_config = ConfigDict(str_strip_whitespace=True)

    household_id: Id
    name: str = Field(min_length=1, max_length=60)
    gender: str | None = Field(default=None, pattern="^[MF]$")
    birth_date: Day | None = None
    id_number: str | None = None
    phone: str | None = None
    relation: str | None = Field(default=None, max_length=20)
    hukou_here: bool = True
    lives_here: bool = True
    registered_address: str | None = Field(default=None, max_length=200)
    living_alone: bool = False
    disability_kind: str | None = Field(default=None, max_length=20)
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    bedridden: bool = False
    chronic_illness: str | None = Field(default=None, max_length=120)
    pregnant: bool = False
    special_needs: str | None = None
    mobility: str | None = None
    emergency_contact: str | None = Field(default=None, max_length=60)
    emergency_phone: str | None = None
    party_member: bool = False
    notes: str | None = None


class ResidentPatch(BaseModel):
    """Fields to change; any left out stay as they are."""

    model_config = ConfigDict(str_strip_whitespace=True)

    household_id: Id | None = None
    name: str | None = Field(default=None, min_length=1, max_length=60)
    gender: str | None = Field(default=None, pattern="^[MF]$")
    birth_date: Day | None = None
    id_number: str | None = None
    phone: str | None = None
    relation: str | None = Field(default=None, max_length=20)
    hukou_here: bool | None = None
    lives_here: bool | None = None
    registered_address: str | None = Field(default=None, max_length=200)
    living_alone: bool | None = None
    disability_kind: str | None = Field(default=None, max_length=20)
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    bedridden: bool | None = None
    chronic_illness: str | None = Field(default=None, max_length=120)
    pregnant: bool | None = None
    special_needs: str | None = None
    mobility: str | None = None
    emergency_contact: str | None = Field(default=None, max_length=60)
    emergency_phone: str | None = None
    party_member: bool | None = None
    notes: str | None = None


# ---- answers ------------------------------------------------------------------------------

MASKED_NOTE = "masked (*** or digits hidden) unless the role sees this field in the clear"


class ResidentOut(BaseModel):
    """A resident as the reader may see them: fields outside the role's clear fields are masked
    (ID number and phones partly hidden, health values "***") and listed in ``masked``."""

    id: int
    household_id: int
    name: str
    gender: str | None = Field(description="M or F")
    birth_date: str | None = Field(description="ISO date, only for roles that may read the ID number; else null")
    age: int | None
    relation: str | None
    hukou_here: bool
    lives_here: bool
    living_alone: bool
    party_member: bool
    mobility: str | None = Field(description="normal, slow, aided, wheelchair or bedridden")
    tags: list[str] = Field(description="vulnerability tags; health tags only for roles that see health")
    id_number: str | None = Field(description=MASKED_NOTE)
    phone: str | None = Field(description=MASKED_NOTE)
    emergency_contact: str | None
    emergency_phone: str | None = Field(description=MASKED_NOTE)
    masked: list[str] = Field(description="the personal fields shown masked: id_number, phone, health")
    disability_kind: str | None = Field(description=MASKED_NOTE)
    disability_grade: int | str | None = Field(description=MASKED_NOTE)
    bedridden: bool | str | None = Field(description=MASKED_NOTE)
    chronic_illness: str | None = Field(description=MASKED_NOTE)
    pregnant: bool | str | None = Field(description=MASKED_NOTE)
    special_needs: str | None = Field(description=MASKED_NOTE)


class RemovedOut(BaseModel):
    ok: bool
    restore: str = Field(description="the route that undoes the removal")


class AuditEntryOut(BaseModel):
    """One entry of a record's history, its values masked as the reader sees them."""

    at: str = Field(description="when, ISO 8601")
    actor: str
    action: str
    summary: str | None
    before: dict[str, Any]
    after: dict[str, Any]


# ---- a person's requests (PIPL) -----------------------------------------------------------


class _Copy(BaseModel):
    """A row of a copy; a domain may add fields to its section, and they are passed on."""

    model_config = ConfigDict(extra="allow")


class PlaceCopy(_Copy):
    id: int | None
    building: str | None
    unit_no: int | None
    room: str | None
    address: str | None


class AccessCopy(_Copy):
    at: str
    actor: str
    action: str
    fields: str | None = Field(description="which personal fields were read or the entry's summary")


class CarePlanCopy(_Copy):
    id: int
    frequency_days: int
    needs: str | None
    status: str
    note: str | None
    created_at: str | None


class CareVisitCopy(_Copy):
    id: int
    plan_id: int
    visited_at: str
    found: str
    note: str | None
    report_id: int | None


class AttendanceCopy(_Copy):
    activity: str
    starts_at: str
    method: str
    signed_at: str


class RatingCopy(_Copy):
    target_kind: str
    target_id: int
    period: str
    variety: int
    quality: int
    responsiveness: int
    comment: str | None


class MembershipCopy(_Copy):
    team_id: int
    role: str
    joined_on: str
    max_care: int
    active: bool


class ReportCopy(_Copy):
    id: int
    token: str | None
    category_code: str
    description: str | None
    state: str
    created_at: str
    reporter_name: str | None
    reporter_phone: str | None


class PersonalDataOut(BaseModel):
    """Everything the platform holds about one resident, in the clear (PIPL art. 45)."""

    model_config = ConfigDict(extra="allow")

    resident: dict[str, Any] = Field(description="the register row, every column")
    household: PlaceCopy
    accounts: list[int] = Field(description="ids of the accounts linked to the resident")
    care_plans: list[CarePlanCopy]
    care_visits: list[CareVisitCopy]
    drill_attendance: list[AttendanceCopy]
    ratings: list[RatingCopy] = Field(description="ratings the resident gave")
    volunteer_teams: list[MembershipCopy]
    reports: list[ReportCopy] = Field(description="reports filed from the resident's accounts")
    accesses: list[AccessCopy] = Field(description="who read or changed the record, and when")


class ErasureOut(BaseModel):
    """How many rows each domain changed (PIPL art. 47)."""

    model_config = ConfigDict(extra="allow")

    accounts: int = Field(description="accounts closed")
    reports: int = Field(description="reports whose reporter details and words were removed")
    care_visits: int = Field(description="care visits whose notes were removed")
    ratings: int = Field(description="ratings whose comments were removed")
    audit_entries: int = Field(description="audit entries about the resident whose values were redacted")


# ---- imports ------------------------------------------------------------------------------


class ImportReportOut(BaseModel):
    """What an import found and, in commit mode, wrote. Rows are numbered as in the sheet (the
    header is row 1); personal fields of the preview are masked as the importer sees lists."""

    kind: str = Field(description="residents or buildings")
    file_name: str
    mode: str = Field(description="preview or commit")
    valid: bool = Field(description="no error: a commit would write every row")
    committed: bool
    rows_read: int
    created_buildings: int
    created_households: int
    created_residents: int
    resident_ids: list[int] | None = Field(description="the first and last id created")
    errors: list[FieldErrorOut] = Field(description="every bad cell or row; the field is the column as written")
    warnings: list[FieldErrorOut] = Field(description="columns not recognised and ignored")
    preview: list[dict[str, Any]] = Field(description="the first rows as read, by column key")
