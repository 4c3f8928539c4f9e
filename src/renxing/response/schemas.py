"""Shapes of the operating modes going in and out of the API."""

from pydantic import BaseModel, ConfigDict, Field

from renxing.web.schemas import IsoTime

STATES = "normal, alert, emergency, recovery"


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)


class TargetOut(BaseModel):
    """A mode the community may be switched to from its mode now."""

    code: str
    name: str
    requires_reason: bool


class ModeOut(BaseModel):
    """A community's operating mode now (normal, with no ``since``, when never switched)."""

    unit_id: int
    community: str
    state: str = Field(description=STATES)
    state_name: str
    since: IsoTime | None
    exercise: bool
    may_switch: bool = Field(description="the reader may switch this community's mode")
    targets: list[TargetOut] = Field(description="the switches allowed from the mode now")


class SwitchIn(_In):
    """Switch a community's mode; only the switches of the transition table are made."""

    to_state: str = Field(min_length=1, max_length=16, description=STATES)
    reason: str | None = Field(default=None, max_length=1000, description="required where the switch asks for one")
    exercise: bool = Field(default=False, description="an exercise (演练), not a real event")


class SwitchOut(BaseModel):
    """One switch of the history (append-only)."""

    id: int
    unit_id: int
    from_state: str
    to_state: str
    reason: str | None
    exercise: bool
    actor_id: int | None
    at: IsoTime
    proposal_id: int | None


class ProposalOut(BaseModel):
    """A switch proposed by rule, pending until staff confirm or dismiss it."""

    id: int
    unit_id: int
    to_state: str
    source: str = Field(description="warning:<id> or sensor-trigger:<id>")
    reason: str
    exercise: bool
    status: str = Field(description="pending, confirmed, dismissed")
    created_at: IsoTime
    decided_by: int | None
    decided_at: IsoTime | None


class ConfirmIn(_In):
    """Confirm a proposal; the reason defaults to the proposal's."""

    reason: str | None = Field(default=None, max_length=1000)
