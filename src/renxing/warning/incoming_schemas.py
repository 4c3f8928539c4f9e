"""Shapes of incoming CAP alerts and their feeds going in and out of the API."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from renxing.web.schemas import IsoTime

LevelCode = Literal["blue", "yellow", "orange", "red"]
State = Literal["active", "updated", "cancelled", "expired"]
How = Literal["polygon", "circle", "geocode", "reference"]


class CommunityOut(BaseModel):
    unit_id: int
    name: str
    how: How = Field(description="polygon, circle or geocode; reference: a community of the alert it follows")


class ReferenceOut(BaseModel):
    sender: str
    identifier: str
    sent: str = Field(description="as the reference writes it")
    alert_id: int | None = Field(description="the alert referenced, when received (and visible)")
    state: str | None = Field(None, description="its state after this message")


class ReceivedOut(BaseModel):
    """What receiving one message did, or in a dry run would do."""

    identifier: str
    sender: str
    sent: str
    status: str
    msg_type: str
    level: LevelCode | None
    headline: str
    alert_id: int | None = Field(description="the stored alert (the earlier one for a duplicate); none in a dry run")
    duplicate: bool = Field(description="already received (same identifier, sender and sent): not stored again")
    dry_run: bool
    communities: list[CommunityOut] = Field(description="communities matched, of those the user sees")
    other_communities: int = Field(description="communities matched outside what the user sees")
    references: list[ReferenceOut]
    notes: list[str]


class AlertRowOut(BaseModel):
    id: int
    identifier: str
    sender: str
    sent: str = Field(description="as the alert writes it, with its offset")
    status: str
    msg_type: str
    scope: str
    event: str | None
    headline: str
    level: LevelCode | None = Field(description="China's colour, read from the alert or mapped from its severity")
    level_label: str | None
    severity: str | None
    urgency: str | None
    certainty: str | None
    state: State = Field(description="active until it expires; updated or cancelled by a later message")
    state_label: str
    effective: IsoTime | None
    expires: IsoTime | None
    area_desc: str | None
    source: str = Field(description="upload, cli or feed")
    feed_id: int | None
    received_at: IsoTime
    communities: list[CommunityOut]


class InfoOut(BaseModel):
    language: str
    event: str
    headline: str | None
    severity: str


class ParameterOut(BaseModel):
    name: str
    value: str


class ResourceOut(BaseModel):
    desc: str
    mime_type: str | None
    size: int | None
    uri: str | None
    embedded_bytes: int = Field(description="size of a resource embedded as derefUri (kept in the XML only)")


class RelatedOut(BaseModel):
    identifier: str
    sender: str
    sent: str
    alert_id: int | None
    received: bool


class SupersededOut(BaseModel):
    alert_id: int
    msg_type: str
    identifier: str


class AlertOut(AlertRowOut):
    """One alert: its words in the language shown (zh-CN, else the first), the other languages it
    carries, what it references and what superseded it, and its areas and matched communities as
    GeoJSON (WGS-84) for a map."""

    description: str | None
    instruction: str | None
    language: str | None
    sender_name: str | None
    web: str | None
    note: str | None
    infos: list[InfoOut]
    parameters: list[ParameterOut]
    resources: list[ResourceOut]
    references: list[RelatedOut]
    superseded_by: SupersededOut | None
    areas: dict[str, Any] = Field(description="GeoJSON FeatureCollection of the alert's polygons and circles")
    outlines: dict[str, Any] = Field(description="GeoJSON FeatureCollection of the matched communities")


# ---- feeds ----------------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


URL_DOC = "an Atom or RSS feed of CAP alerts, http:// or https://"


class FeedIn(_In):
    name: str = Field(min_length=1, max_length=120)
    url: str = Field(min_length=8, max_length=500, description=URL_DOC)
    interval_seconds: int = Field(300, ge=60, le=86_400, description="how often it is polled")
    active: bool = True


class FeedPatch(_In):
    name: str | None = Field(None, min_length=1, max_length=120)
    url: str | None = Field(None, min_length=8, max_length=500, description=URL_DOC)
    interval_seconds: int | None = Field(None, ge=60, le=86_400)
    active: bool | None = None


class FeedOut(BaseModel):
    id: int
    name: str
    url: str
    interval_seconds: int
    active: bool
    last_polled_at: IsoTime | None
    last_ok_at: IsoTime | None
    last_error: str | None
    due: bool = Field(description="polled at the next run")
    alerts: int = Field(description="alerts received from it")


class PollOut(BaseModel):
    feed_id: int
    unchanged: bool = Field(description="the feed answered 304 Not Modified")
    entries: int
    received: int
    duplicates: int
    refused: int
    skipped: int = Field(description="entries fetched in an earlier poll")
    error: str | None
    alert_ids: list[int]


class Done(BaseModel):
    ok: bool = True
