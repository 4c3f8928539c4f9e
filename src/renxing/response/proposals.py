"""Switches proposed by rule (建议切换): a red warning sent over a community, or a red sensor trigger
in it, proposes switching the community to emergency, once per source; staff confirm (the switch
is made, as by hand) or dismiss it. An exercise warning proposes an exercise switch.

A proposal is only made where the switch is allowed from the community's mode now (a community
already in emergency is not asked again).
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth import directory as accounts
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import SYSTEM, Principal
from renxing.db import utcnow
from renxing.errors import Conflict, NotFound
from renxing.grid import directory as grid
from renxing.grid import scope
from renxing.grid.models import GridUnit
from renxing.i18n import _, bilingual
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.response import modes
from renxing.response.models import ModeProposal, ModeSwitch, ProposalStatus
from renxing.signals.bus import publish
from renxing.signals.catalog import ModeProposed
from renxing.warning.directory import WarningPlace

EMERGENCY = "emergency"


def propose(
    session: Session,
    community: GridUnit,
    *,
    source: str,
    reason: str,
    exercise: bool = False,
    to_state: str = EMERGENCY,
    now: datetime | None = None,
) -> ModeProposal | None:
    """A pending proposal for the community, its staff told; None when this source proposed
    already or the switch is not allowed from the community's mode now."""
    seen = select(ModeProposal.id).where(ModeProposal.unit_id == community.id, ModeProposal.source == source)
    if session.scalar(seen) is not None:
        return None
    origin = modes.current(session, community.id).state
    if to_state not in {t.to_state for t in modes.transitions_from(session, origin)}:
        return None
    proposal = ModeProposal(
        unit_id=community.id,
        path=community.path,
        to_state=to_state,
        source=source,
        reason=reason[:1000],
        exercise=exercise,
        status=ProposalStatus.pending.value,
        created_at=now or utcnow(),
    )
    session.add(proposal)
    session.flush()
    audit.record(session, SYSTEM, "propose", "community_mode", community.id, summary=source)
    staff = accounts.staff_covering(session, community.path, (Role.community_staff.value,))
    publish(
        session,
        ModeProposed(
            proposal_id=proposal.id,
            unit_id=community.id,
            community=community.name,
            to_state=to_state,
            exercise=exercise,
            reason=proposal.reason,
            to_name=bilingual(lambda: modes.state_name(session, to_state)),
            recipients=tuple(staff),
            link=modes.link(community.id),
        ),
    )
    return proposal


def propose_from_warning(session: Session, warning_id: int, place: WarningPlace | None) -> ModeProposal | None:
    """A red warning (Alert or Update) sent over a community or one of its areas."""
    if place is None or place.level != "red" or place.msg_type == "Cancel":
        return None
    unit = grid.unit(session, place.unit_id)
    community = scope.community_of(session, unit.path) if unit is not None else None
    if community is None:
        return None
    reason = bilingual("红色预警已发布：{headline}", headline=place.headline)
    return propose(session, community, source=f"warning:{warning_id}", reason=reason, exercise=place.exercise)


def propose_from_trigger(session: Session, trigger_id: int, unit_id: int, level: str, what: str) -> ModeProposal | None:
    """A red sensor trigger in a community."""
    if level != "red":
        return None
    unit = grid.unit(session, unit_id)
    community = scope.community_of(session, unit.path) if unit is not None else None
    if community is None:
        return None
    reason = bilingual("传感器红色告警：{what}", what=what)
    return propose(session, community, source=f"sensor-trigger:{trigger_id}", reason=reason)


# ---- deciding ------------------------------------------------------------------------------------

PROPOSALS = ListSpec(
    sorts={"created_at": ModeProposal.created_at},
    default_sort="-created_at",
    tiebreaker=ModeProposal.id,
    search=(ModeProposal.reason, ModeProposal.source),
    filters={
        "status": Filter(ModeProposal.status, parse=lambda v: ProposalStatus(v).value),
        "unit_id": Filter(ModeProposal.unit_id, parse=int),
    },
)


def list_proposals(session: Session, actor: Principal, query: ListQuery) -> Page[ModeProposal]:
    """The proposals of the communities the actor sees, newest first."""
    actor.require(Perm.mode_read)
    stmt = select(ModeProposal)
    clause = scope.visible_clause(ModeProposal.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return list_page(session, stmt, PROPOSALS, query)


def _pending(session: Session, actor: Principal, proposal_id: int) -> ModeProposal:
    actor.require(Perm.mode_switch)
    proposal = session.get(ModeProposal, proposal_id, with_for_update=True)
    if proposal is None or not scope.sees(actor, proposal.path):
        raise NotFound(_("切换建议 {proposal_id} 不存在").format(proposal_id=proposal_id))
    scope.community_in_scope(session, actor, proposal.unit_id, write=True)
    if proposal.status != ProposalStatus.pending.value:
        raise Conflict(_("该切换建议已处理"))
    return proposal


def confirm(
    session: Session, actor: Principal, proposal_id: int, reason: str | None = None, *, now: datetime | None = None
) -> ModeSwitch:
    """Make the proposed switch (with the proposal's reason unless another is given)."""
    proposal = _pending(session, actor, proposal_id)
    now = now or utcnow()
    row = modes.switch(
        session,
        actor,
        proposal.unit_id,
        proposal.to_state,
        (reason or "").strip() or proposal.reason,
        exercise=proposal.exercise,
        proposal_id=proposal.id,
        now=now,
    )
    proposal.status, proposal.decided_by, proposal.decided_at = ProposalStatus.confirmed.value, actor.user_id, now
    session.flush()
    return row


def dismiss(session: Session, actor: Principal, proposal_id: int, *, now: datetime | None = None) -> ModeProposal:
    """Leave the community's mode as it is; the proposal is kept, dismissed."""
    proposal = _pending(session, actor, proposal_id)
    proposal.status, proposal.decided_by, proposal.decided_at = (
        ProposalStatus.dismissed.value,
        actor.user_id,
        now or utcnow(),
    )
    audit.record(session, actor, "dismiss", "mode_proposal", proposal.id, summary=proposal.source)
    session.flush()
    return proposal
