"""JSON routes of the operating modes under ``/api/v1/response``."""

from typing import Annotated

from fastapi import APIRouter, Query

from renxing.response import modes, proposals, views
from renxing.response.schemas import STATES, ConfirmIn, ModeOut, ProposalOut, SwitchIn, SwitchOut
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams
from renxing.web.schemas import PageOut

router = APIRouter(prefix="/api/v1/response", tags=["response"])
State = Annotated[str | None, Query(max_length=16, description=STATES)]


@router.get("/modes", response_model=list[ModeOut], summary="The mode of every community in scope")
def list_modes(session: DB, actor: CurrentUser):
    return [views.mode_row(session, m.unit_id, m.name, m.mode, m.may_switch) for m in modes.modes_under(session, actor)]


@router.get("/modes/{unit_id}", response_model=ModeOut, summary="One community's mode")
def one_mode(unit_id: Id, session: DB, actor: CurrentUser):
    community, now = modes.mode_of(session, actor, unit_id)
    return views.mode_row(session, community.id, community.name, now, modes.may_switch(actor, community))


@router.post("/modes/{unit_id}", response_model=SwitchOut, summary="Switch a community's mode")
def switch(unit_id: Id, body: SwitchIn, session: DB, actor: CurrentUser):
    row = modes.switch(session, actor, unit_id, body.to_state, body.reason, exercise=body.exercise)
    return views.switch_row(row)


@router.get(
    "/history", response_model=PageOut[SwitchOut], summary="Switches of the communities in scope (sort: at, -at)"
)
def history(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    unit_id: Annotated[Id | None, Query(description="one community")] = None,
    to_state: State = None,
    exercise: bool | None = None,
):
    query.filters = {"unit_id": unit_id, "to_state": to_state, "exercise": exercise}
    page = modes.history(session, actor, query)
    return page.to_dict([views.switch_row(r) for r in page.items])


@router.get("/proposals", response_model=PageOut[ProposalOut], summary="Switches proposed by rule, newest first")
def list_proposals(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    status: Annotated[str | None, Query(max_length=12, description="pending, confirmed, dismissed")] = None,
    unit_id: Annotated[Id | None, Query(description="one community")] = None,
):
    query.filters = {"status": status, "unit_id": unit_id}
    page = proposals.list_proposals(session, actor, query)
    return page.to_dict([views.proposal_row(p) for p in page.items])


@router.post("/proposals/{proposal_id}/confirm", response_model=SwitchOut, summary="Make a proposed switch")
def confirm(proposal_id: Id, body: ConfirmIn, session: DB, actor: CurrentUser):
    return views.switch_row(proposals.confirm(session, actor, proposal_id, body.reason))


@router.post("/proposals/{proposal_id}/dismiss", response_model=ProposalOut, summary="Dismiss a proposed switch")
def dismiss(proposal_id: Id, session: DB, actor: CurrentUser):
    return views.proposal_row(proposals.dismiss(session, actor, proposal_id))
