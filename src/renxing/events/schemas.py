"""Shapes of the closed loop: its input, shared by the JSON API, pages, Open311 and internal
callers, and the answers of the JSON API (``…Out``), which the routes declare as their
``response_model``. Times in answers are ISO 8601 strings with their zone, as the queries write them."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from renxing.bounds import Id
from renxing.web.schemas import IsoTime


class ReportIn(BaseModel):
    """A new report. The place is a household, a grid unit (usually a building), or a point."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(description="category code, e.g. fire_hazard")
    description: str = Field(max_length=4000)
    lat: float | None = Field(None, description="WGS-84 latitude")
    long: float | None = Field(None, description="WGS-84 longitude")
    unit_id: Id | None = Field(None, description="the building (or other grid unit) picked")
    household_id: Id | None = Field(None, description="the household, e.g. one's own")
    address: str | None = Field(None, max_length=200)
    severity: str | None = Field(None, description="urgent, high, normal, low; staff only, else the category's")
    show_name_publicly: bool = False
    # 愿意公开: the reporter agrees that a moderated copy without personal details may be public.
    public_consent: bool = False
    # Reporter details for phone calls, Open311 and internal sources (users are known already).
    reporter_name: str | None = Field(None, max_length=60)
    reporter_phone: str | None = Field(None, max_length=30)
    reporter_email: str | None = Field(None, max_length=120)
    attributes: dict[str, Any] | None = None
    external_ref: str | None = Field(None, max_length=120)


class ActionIn(BaseModel):
    """Arguments of an action on a report; each action reads the fields it needs."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=4000)
    reason: str | None = Field(None, max_length=4000, description="transfer, reject, reopen")
    to_user_id: Id | None = Field(None, description="assign, transfer: the new handler")
    to_label: str | None = Field(None, max_length=120, description="transfer to an organization without an account")
    into_report_id: Id | None = Field(None, description="merge: the report this one duplicates")
    lat: float | None = Field(None, description="check_in: where the handler is")
    long: float | None = None
    solved: bool | None = Field(None, description="feedback: was the problem solved")
    rating: int | None = Field(None, description="feedback: 1 (bad) to 5 (very good)")
    comment: str | None = Field(None, max_length=2000)


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1, max_length=40)
    name_en: str = Field(min_length=1, max_length=60)
    description: str | None = None
    group_name: str | None = Field(None, max_length=40)
    default_severity: str = "normal"
    handler_kind: str = Field("grid_worker", max_length=24)
    active: bool = True
    private: bool = Field(False, description="reports of this category are never public")
    sort_order: int = 100


class CategoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str | None = Field(None, min_length=1, max_length=40)
    name_en: str | None = Field(None, min_length=1, max_length=60)
    description: str | None = None
    group_name: str | None = Field(None, max_length=40)
    default_severity: str | None = None
    handler_kind: str | None = Field(None, max_length=24)
    active: bool | None = None
    private: bool | None = None
    sort_order: int | None = None


class DeadlinePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept_minutes: int | None = None
    on_site_minutes: int | None = None
    resolve_minutes: int | None = None


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category_code: str | None = None
    level: str | None = Field(None, description="household, building, area, compound, community; none = any")
    unit_id: Id | None = Field(None, description="only places inside this unit")
    handler_kind: str = Field(description="duty, user, partner, team")
    duty: str | None = None
    user_id: Id | None = None
    org_name: str | None = Field(None, max_length=120)
    priority: int = 100
    active: bool = True
    note: str | None = Field(None, max_length=200)


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category_code: str | None = None
    level: str | None = None
    unit_id: Id | None = None
    handler_kind: str | None = None
    duty: str | None = None
    user_id: Id | None = None
    org_name: str | None = Field(None, max_length=120)
    priority: int | None = None
    active: bool | None = None
    note: str | None = Field(None, max_length=200)


# ---- answers ------------------------------------------------------------------------------


class LabelOut(BaseModel):
    zh: str
    en: str


class ReporterOut(BaseModel):
    """The reporter as the user may see them (``queries.reporter_view``)."""

    name: str | None = Field(description="“匿名” (anonymous) when the reporter keeps their name private")
    phone: str | None = Field(description="masked unless the user calls reporters back")
    email: str | None


class ReportOut(BaseModel):
    """A report as lists and inboxes show it."""

    id: int
    token: str = Field(description="the public reference")
    category: str
    description: str
    channel: str
    state: str
    severity: str
    unit_id: int | None
    household_id: int | None
    address: str | None
    lon: float | None
    lat: float | None
    handler_user_id: int | None
    handler: str | None
    escalation_level: int
    escalated_to: str | None
    due: IsoTime | None = Field(description="the deadline of the step the report waits for")
    overdue: bool
    due_accept: IsoTime | None
    due_on_site: IsoTime | None
    due_resolve: IsoTime | None
    created_at: IsoTime | None
    accepted_at: IsoTime | None
    on_site_at: IsoTime | None
    resolved_at: IsoTime | None
    closed_at: IsoTime | None
    merged_into_id: int | None
    reporter: ReporterOut
    link: str = Field(description="the report's page")


class CandidateOut(ReportOut):
    """A nearby open report of the same category, which the report may duplicate."""

    distance_m: float | None


class PhotoOut(BaseModel):
    id: int
    kind: str = Field(description="report, check_in or resolve")
    content_type: str
    width: int | None
    height: int | None
    url: str


class IntakeOut(ReportOut):
    """The answer to a new report: the list item, the filer's choices, the photos and what may follow."""

    show_name_publicly: bool
    public_consent: bool
    photos: list[PhotoOut]
    actions: list[str] = Field(description="the actions open to the filer now")
    merge_candidates: list[CandidateOut] = Field(description="for those who may merge (staff), else empty")


class FeedbackOut(BaseModel):
    solved: bool | None
    rating: int | None
    comment: str | None
    at: IsoTime | None


class TimelineStepOut(BaseModel):
    at: IsoTime | None
    action: str
    action_label: LabelOut
    actor: str | None
    from_state: str | None
    to_state: str | None
    note: str | None
    lon: float | None
    lat: float | None
    escalation_level: int | None


class ReportViewOut(ReportOut):
    """One report with its timeline and photos, and the actions the user may take now."""

    category_label: LabelOut | None
    state_label: LabelOut
    path: str
    place_source: str
    show_name_publicly: bool
    public_consent: bool
    routing: dict[str, Any] | None = Field(description="why it went to its handler (staff and handlers only)")
    resolution_note: str | None
    reject_reason: str | None
    reopen_count: int
    feedback: FeedbackOut
    close_reason: str | None
    attributes: dict[str, Any] | None
    external_ref: str | None
    capacity: list[str] = Field(description="how the user stands to the report: reporter, handler, staff, system")
    actions: list[str]
    photos: list[PhotoOut]
    timeline: list[TimelineStepOut]


class SpreadOut(BaseModel):
    median: float | None
    p90: float | None
    n: int


class SummaryOut(BaseModel):
    """The numbers of a set of reports (``metrics.summarize``); duplicates merged away are left out."""

    count: int
    open: int
    by_state: dict[str, int]
    minutes_to_accept: SpreadOut
    minutes_to_on_site: SpreadOut
    minutes_to_resolve: SpreadOut
    overdue: int
    overdue_rate: float | None
    closed_with_feedback: int
    closed_loop_rate: float | None
    ratings: int
    satisfaction: float | None = Field(description="mean rating, 1 to 5")


class GroupOut(SummaryOut):
    key: int | str | None = Field(description="a unit or handler id, a category, month (YYYY-MM), channel or severity")
    label: str


class StatsOut(BaseModel):
    group_by: str
    since: IsoTime | None
    until: IsoTime | None
    total: SummaryOut
    groups: list[GroupOut]


class HotspotOut(BaseModel):
    lon: float
    lat: float
    count: int
    open: int
    categories: dict[str, int] = Field(description="reports per category code")


class PublicViewOut(BaseModel):
    """What anyone may read of a public report (``publication.public_views``)."""

    id: int
    token: str
    category: str
    category_name: list[str] = Field(description="[Chinese, English]")
    state: str
    state_label: list[str] = Field(description="[Chinese, English]")
    open: bool
    severity: str
    handler: str | None
    escalated: bool
    merged_into_id: int | None
    unit_id: int | None
    unit_code: str | None
    unit_level: str | None
    place: str
    lon: float | None
    lat: float | None
    description: str | None = Field(description="the text staff published, scrubbed; none until they do")
    moderated: bool
    media_url: str | None
    created_at: IsoTime
    updated_at: IsoTime
    expected_at: IsoTime


class PublicityOut(BaseModel):
    """Whether the public sees a report, why not, the text staff wrote and what the public reads."""

    report_id: int
    public: bool
    reasons: list[str]
    public_consent: bool
    category_private: bool
    text: str | None
    published: str | None
    moderated_at: IsoTime | None
    may_moderate: bool
    view: PublicViewOut | None


class PublicTextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="what the public reads; empty or null withdraws it")


class CategoryOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    description: str | None
    group: str | None
    default_severity: str
    handler_kind: str
    active: bool
    editable: bool
    private: bool
    sort_order: int


class DeadlineOut(BaseModel):
    severity: str
    label: LabelOut
    rank: int
    accept_minutes: int
    on_site_minutes: int
    resolve_minutes: int


class StateOut(BaseModel):
    code: str
    label: LabelOut
    terminal: bool
    step: str | None


class TransitionOut(BaseModel):
    from_state: str = Field(alias="from")
    action: str
    to: str
    actors: list[str]
    requires_note: bool


class StatesOut(BaseModel):
    states: list[StateOut]
    transitions: list[TransitionOut]


class RuleOut(BaseModel):
    id: int
    category_code: str | None
    level: str | None
    unit_id: int | None
    handler_kind: str
    duty: str | None
    user_id: int | None
    org_name: str | None
    priority: int
    active: bool
    note: str | None
    created_at: IsoTime | None


class OkOut(BaseModel):
    ok: bool
