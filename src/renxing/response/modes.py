"""Operating modes of the communities (平急转换): what each is in, switching it, its history.

A community is in one mode: normal (平时), alert (预警), emergency (应急) or recovery (恢复). Only
the switches of ``mode_transitions`` are made, each with a reason where the table asks for one;
a switch writes the community's mode and one history row, is audited, and tells the staff who
cover the community (``response.mode_changed``). A switch may be an exercise (演练): the mode and
the messages say so, and the history keeps it apart.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth import directory as accounts
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import FieldError, Invalid
from renxing.grid import scope
from renxing.grid.models import GridUnit
from renxing.i18n import _, bilingual, localized
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.response.models import NORMAL, CommunityMode, ModeState, ModeSwitch, ModeTransition
from renxing.signals.bus import publish
from renxing.signals.catalog import ModeChanged

PAGE = "/response"
MAX_REASON = 1000


@dataclass(frozen=True)
class ModeNow:
    """A community's mode now (normal, since never, when it was never switched)."""

    unit_id: int
    state: str
    since: datetime | None
    exercise: bool


@dataclass(frozen=True)
class CommunityModeView:
    unit_id: int
    name: str
    path: str
    mode: ModeNow
    may_switch: bool


def link(unit_id: int | None = None) -> str:
    return PAGE if unit_id is None else f"{PAGE}?unit_id={unit_id}"


def states(session: Session) -> list[ModeState]:
    return list(session.scalars(select(ModeState).order_by(ModeState.sort_order, ModeState.code)))


def state_name(session: Session, code: str) -> str:
    """A mode's name in the reader's language (the code when it is not a mode)."""
    row = session.get(ModeState, code)
    return code if row is None else localized(row.name_zh, row.name_en)


def state_names(session: Session) -> dict[str, str]:
    return {s.code: localized(s.name_zh, s.name_en) for s in states(session)}


def current(session: Session, unit_id: int) -> ModeNow:
    """A community's mode now: normal when it was never switched. A plain read (the caller checks)."""
    row = session.get(CommunityMode, unit_id)
    if row is None:
        return ModeNow(unit_id=unit_id, state=NORMAL, since=None, exercise=False)
    return ModeNow(unit_id=unit_id, state=row.state, since=row.since, exercise=row.exercise)


def transitions_from(session: Session, state: str) -> list[ModeTransition]:
    """The switches allowed from ``state``, in the modes' order."""
    stmt = (
        select(ModeTransition)
        .join(ModeState, ModeState.code == ModeTransition.to_state)
        .where(ModeTransition.from_state == state)
        .order_by(ModeState.sort_order)
    )
    return list(session.scalars(stmt))


def mode_of(session: Session, actor: Principal, unit_id: int) -> tuple[GridUnit, ModeNow]:
    """One community the actor sees, with its mode."""
    actor.require(Perm.mode_read)
    community = scope.community_in_scope(session, actor, unit_id)
    return community, current(session, community.id)


def may_switch(actor: Principal, community: GridUnit) -> bool:
    return actor.can(Perm.mode_switch) and scope.in_scope(actor, community)


def modes_under(session: Session, actor: Principal) -> list[CommunityModeView]:
    """Every community the actor sees, with its mode and whether the actor may switch it."""
    actor.require(Perm.mode_read)
    communities = scope.communities_in_scope(session, actor)
    rows = {
        m.unit_id: m
        for m in session.scalars(select(CommunityMode).where(CommunityMode.unit_id.in_([c.id for c in communities])))
    }
    views = []
    for c in communities:
        row = rows.get(c.id)
        now = ModeNow(c.id, NORMAL, None, False) if row is None else ModeNow(c.id, row.state, row.since, row.exercise)
        views.append(CommunityModeView(c.id, c.name, c.path, now, may_switch(actor, c)))
    return views


def not_normal(session: Session, actor: Principal) -> list[tuple[str, CommunityMode]]:
    """The communities the actor sees that are not in normal mode, as (name, mode): the badge of
    every page. Nothing for a role that may not read modes."""
    if not actor.can(Perm.mode_read):
        return []
    stmt = (
        select(GridUnit.name, CommunityMode)
        .join(GridUnit, GridUnit.id == CommunityMode.unit_id)
        .where(CommunityMode.state != NORMAL)
        .order_by(GridUnit.code)
    )
    clause = scope.visible_clause(CommunityMode.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return [(name, mode) for name, mode in session.execute(stmt.limit(5))]


def _check(session: Session, origin: str, to_state: str, reason: str | None) -> str | None:
    """The reason to record, after the transition table: 422 naming ``to_state`` or ``reason``."""
    allowed = {t.to_state: t for t in transitions_from(session, origin)}
    rule = allowed.get(to_state)
    if rule is None:
        names = "、".join(state_name(session, s) for s in allowed) or "—"
        message = _("不能从{origin}切换到该状态，可切换到：{names}").format(
            origin=state_name(session, origin), names=names
        )
        raise Invalid(_("状态切换无效"), [FieldError("to_state", message, value=to_state)])
    text = (reason or "").strip()
    if len(text) > MAX_REASON:
        raise Invalid(_("原因过长"), [FieldError("reason", _("最多 {n} 字").format(n=MAX_REASON))])
    if rule.requires_reason and not text:
        raise Invalid(_("请填写原因"), [FieldError("reason", _("此切换须说明原因"))])
    return text or None


def switch(
    session: Session,
    actor: Principal,
    unit_id: int,
    to_state: str,
    reason: str | None,
    *,
    exercise: bool = False,
    proposal_id: int | None = None,
    now: datetime | None = None,
) -> ModeSwitch:
    """Switch a community's mode along the transition table; recorded, audited, staff told."""
    actor.require(Perm.mode_switch)
    community = scope.community_in_scope(session, actor, unit_id, write=True)
    now = now or utcnow()
    mode = session.get(CommunityMode, community.id, with_for_update=True)
    origin = NORMAL if mode is None else mode.state
    text = _check(session, origin, to_state, reason)
    if mode is None:
        mode = CommunityMode(unit_id=community.id, path=community.path)
        session.add(mode)
    mode.state, mode.since, mode.switched_by = to_state, now, actor.user_id
    # Back to normal ends the exercise; otherwise an exercise stays one until it is over.
    mode.exercise = exercise and to_state != NORMAL
    row = ModeSwitch(
        unit_id=community.id,
        path=community.path,
        from_state=origin,
        to_state=to_state,
        reason=text,
        exercise=exercise,
        actor_id=actor.user_id,
        at=now,
        proposal_id=proposal_id,
    )
    session.add(row)
    session.flush()

    def words() -> str:
        text = _("{community}：{origin} → {target}").format(
            community=community.name, origin=state_name(session, origin), target=state_name(session, to_state)
        )
        return text + (_("（演练）") if exercise else "")

    summary = bilingual(words)
    audit.record(session, actor, "switch", "community_mode", community.id, summary=summary, after=audit.snapshot(row))
    recipients = accounts.staff_covering(session, community.path, (Role.community_staff.value, Role.street_admin.value))
    publish(
        session,
        ModeChanged(
            unit_id=community.id,
            community=community.name,
            from_state=origin,
            to_state=to_state,
            exercise=exercise,
            reason=text,
            to_name=bilingual(lambda: state_name(session, to_state)),
            recipients=tuple(r for r in recipients if r != actor.user_id),
            link=link(community.id),
        ),
    )
    return row


# ---- history ------------------------------------------------------------------------------------

HISTORY = ListSpec(
    sorts={"at": ModeSwitch.at},
    default_sort="-at",
    tiebreaker=ModeSwitch.id,
    search=(ModeSwitch.reason,),
    filters={
        "unit_id": Filter(ModeSwitch.unit_id, parse=int),
        "to_state": Filter(ModeSwitch.to_state),
        "exercise": Filter(ModeSwitch.exercise),
    },
)


def _visible(stmt: Select, column, actor: Principal) -> Select:
    clause = scope.visible_clause(column, actor)
    return stmt if clause is None else stmt.where(clause)


def history(session: Session, actor: Principal, query: ListQuery) -> Page[ModeSwitch]:
    """The switches of the communities the actor sees, newest first by default."""
    actor.require(Perm.mode_read)
    return list_page(session, _visible(select(ModeSwitch), ModeSwitch.path, actor), HISTORY, query)
