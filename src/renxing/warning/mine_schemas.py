"""Shapes of a resident's warnings in the API. Times are ISO 8601 with their zone."""

from pydantic import BaseModel, Field

from renxing.web.schemas import IsoTime


class MineWarningOut(BaseModel):
    """A warning in force for the resident's household, with where its acknowledgement stands."""

    warning_id: int
    msg_type: str = Field(description="Alert, Update, Cancel")
    level: str = Field(description="blue, yellow, orange, red")
    event: str
    headline: str
    description: str
    instruction: str | None
    exercise: bool = Field(description="an exercise (演练), not a real warning")
    lifted: bool = Field(description="the Cancel of an earlier warning: it is over")
    sent_at: IsoTime | None
    expires: IsoTime | None
    acknowledged_at: IsoTime | None = Field(description="when the household acknowledged; null while it has not")
    ack_how: str | None = Field(description="link, call, door, app; null while unacknowledged")
    in_app: str | None = Field(description="the in-app copy's state after this read (delivered, acknowledged …)")
    link: str = Field(description="the household's one-tap acknowledgement link (POST it, or open it)")
