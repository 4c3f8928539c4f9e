"""Shapes of warnings sent going in and out of the API: a warning composed (its area, colour, words,
times, channels), the decisions on it, and the colour → CAP table."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from renxing.bounds import Id, Moment
from renxing.web.schemas import IsoTime

LevelCode = Literal["blue", "yellow", "orange", "red"]
Channel = Literal["in_app", "sms", "voice", "email", "log"]
Category = Literal[
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other"
]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]

POLYGON_DOC = (
    'a GeoJSON Polygon, one closed ring: {"type": "Polygon", "coordinates": [[[lon, lat], …, [lon, lat]]]} '
    "(first position repeated last, at least four); none: the unit's outline"
)
CRS_DOC = "datum of the polygon's coordinates: wgs84 (default), gcj02 (AMap, Tencent) or bd09 (Baidu)"
TIME_DOC = "ISO 8601 with its offset, e.g. 2025-03-03T10:00:00+08:00"


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)


class WarningIn(_In):
    """A warning as staff compose it. The area is the unit (a community, compound or area of the
    grid) or a polygon drawn inside it."""

    unit_id: Id = Field(description="the community, compound or area warned (and whose staff decide)")
    polygon: dict[str, Any] | None = Field(default=None, description=POLYGON_DOC)
    crs: str = Field(default="wgs84", max_length=40, description=CRS_DOC)
    area_desc: str | None = Field(
        default=None, max_length=300, description="the area in words; default: the unit's name"
    )
    level: LevelCode
    event: str = Field(min_length=1, max_length=120, description="暴雨内涝, 火灾, 燃气泄漏 …")
    category: Category = Field(default="Met", description="CAP category")
    headline: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    instruction: str | None = Field(default=None, max_length=2000)
    effective: Moment | None = Field(default=None, description=f"{TIME_DOC}; none: when sent")
    expires: Moment | None = Field(default=None, description=f"{TIME_DOC}; after effective")
    channels: list[Channel] | None = Field(
        default=None, min_length=1, max_length=5, description="in_app, sms, voice, email, log; none: the platform's"
    )
    exercise: bool = Field(default=False, description="a drill: CAP status Exercise, no approval needed")
    public: bool = Field(default=True, description="CAP scope Public (served and in the Atom feed), else Restricted")


class WarningPatch(_In):
    """Fields of a draft to change; any left out stay as they are. ``polygon: null`` goes back to
    the unit's outline."""

    unit_id: Id | None = None
    polygon: dict[str, Any] | None = Field(default=None, description=POLYGON_DOC)
    crs: str = Field(default="wgs84", max_length=40, description=CRS_DOC)
    area_desc: str | None = Field(default=None, max_length=300)
    level: LevelCode | None = None
    event: str | None = Field(default=None, min_length=1, max_length=120)
    category: Category | None = None
    headline: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1, max_length=4000)
    instruction: str | None = Field(default=None, max_length=2000)
    effective: Moment | None = None
    expires: Moment | None = None
    channels: list[Channel] | None = Field(default=None, min_length=1, max_length=5)
    exercise: bool | None = None
    public: bool | None = None


class UpdateIn(_In):
    """An Update of a sent warning: what changes (the rest is copied from the latest message)."""

    level: LevelCode | None = None
    headline: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1, max_length=4000)
    instruction: str | None = Field(default=None, max_length=2000)
    expires: Moment | None = None


class CancelIn(_In):
    """A Cancel of a sent warning (解除): why, in words residents read."""

    description: str = Field(min_length=1, max_length=4000, description="e.g. 降雨已停止，积水已退，预警解除")


class RefuseIn(_In):
    reason: str = Field(min_length=1, max_length=1000)


class WarningRow(BaseModel):
    id: int
    identifier: str | None = Field(description="the CAP identifier, once sent")
    msg_type: str = Field(description="Alert, Update, Cancel")
    status: str = Field(description="draft, pending, sent, rejected, withdrawn")
    level: str
    level_label: str
    exercise: bool
    public: bool
    event: str
    headline: str
    unit_id: int
    area_desc: str
    created_at: IsoTime
    sent_at: IsoTime | None
    households: int
    acknowledged: int


class WarningOut(WarningRow):
    references_id: int | None
    trigger_id: int | None
    category: str
    description: str
    instruction: str | None
    polygon: dict[str, Any] | None = Field(description="the drawn polygon (GeoJSON, WGS-84); none: the unit's outline")
    effective: IsoTime | None
    expires: IsoTime | None
    channels: list[str]
    created_by: int | None
    submitted_at: IsoTime | None
    approved_by: int | None
    decided_at: IsoTime | None
    decision_note: str | None
    sent_text: str | None = Field(description="CAP <sent> as transmitted (+08:00)")
    cap_url: str | None = Field(description="where the CAP message is served (public warnings once sent)")
    may_edit: bool
    may_send: bool
    may_decide: bool = Field(description="the reader may approve or refuse it (pending, composed by someone else)")
    may_follow_up: bool = Field(description="the reader may send an Update or a Cancel of it")


class LevelOut(BaseModel):
    code: str
    rank: int
    name_zh: str
    name_en: str
    severity: str
    urgency: str
    certainty: str
    needs_approval: bool
    step_minutes: int
    updated_at: IsoTime | None


class LevelPatch(_In):
    severity: Severity | None = None
    urgency: Urgency | None = None
    certainty: Certainty | None = None
    needs_approval: bool | None = None
    step_minutes: int | None = Field(default=None, ge=1, le=1440, description="minutes before the unreached climb")
