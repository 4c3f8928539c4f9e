"""The shapes of the notification routes: the address a user sets, and the answers."""

from pydantic import BaseModel, ConfigDict, Field

from renxing.web.schemas import IsoTime, PageOut


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = Field(description="email or webhook")
    address: str | None = Field(None, description="the e-mail address or http(s) URL; empty removes it")


class NotificationOut(BaseModel):
    id: int
    title: str
    body: str | None
    link: str | None = Field(description="the page it is about, e.g. /reports/12")
    topic: str | None = Field(description="what happened, e.g. report.assign")
    report_id: int | None
    created_at: IsoTime
    read_at: IsoTime | None


class InboxOut(PageOut[NotificationOut]):
    unread: int = Field(description="all unread messages, not only this page's")


class MarkedOut(BaseModel):
    marked: int = Field(description="how many messages were marked read")


class ContactOut(BaseModel):
    channel: str
    address: str
    active: bool


class ContactSetOut(BaseModel):
    channel: str
    address: str | None
