"""The words of the closed loop and who may do what. Pure: no I/O.

The states and transitions themselves are data (tables ``report_states`` and
``report_transitions``, seeded by migration 0002); the enums here only name them so code
and tests can refer to them without string typos.
"""

from enum import StrEnum

from renxing.auth.policy import Perm, Role, has_perm
from renxing.i18n import _l, _lp


class Severity(StrEnum):
    urgent = "urgent"
    high = "high"
    normal = "normal"
    low = "low"


class Channel(StrEnum):
    resident_app = "resident_app"  # the resident's phone page
    patrol = "patrol"  # 巡查上报: a grid worker or building leader on patrol
    phone = "phone"  # staff recording a call on someone's behalf
    api = "api"  # the JSON API
    open311 = "open311"  # GeoReport v2 clients
    internal = "internal"  # other domains: sensors, warnings, visits


class State(StrEnum):
    submitted = "submitted"
    assigned = "assigned"
    accepted = "accepted"
    on_site = "on_site"
    resolved = "resolved"
    closed = "closed"
    transferred = "transferred"
    merged = "merged"
    rejected = "rejected"
    reopened = "reopened"


class Action(StrEnum):
    """Actions of the transition table, plus the timeline-only ones at the end."""

    assign = "assign"
    transfer = "transfer"
    accept = "accept"
    check_in = "check_in"
    resolve = "resolve"
    close = "close"
    reject = "reject"
    merge = "merge"
    reopen = "reopen"
    feedback = "feedback"
    # timeline only
    submit = "submit"
    route = "route"
    escalate = "escalate"
    auto_close = "auto_close"
    merged_in = "merged_in"  # on the report that absorbed a duplicate


class ActorKind(StrEnum):
    reporter = "reporter"
    handler = "handler"
    staff = "staff"
    system = "system"


class HandlerKind(StrEnum):
    duty = "duty"  # whoever holds a duty of the place's chain (e.g. the area's grid worker)
    user = "user"  # one named user
    partner = "partner"  # a partner organization (property company, utility), optionally with a contact user
    team = "team"  # a team (e.g. 治安巡逻队), optionally with a contact user


# States in which a report is still being worked on (the sweep and inboxes look at these).
OPEN_STATES = frozenset(
    {State.submitted, State.assigned, State.transferred, State.reopened, State.accepted, State.on_site}
)
TERMINAL_STATES = frozenset({State.closed, State.merged, State.rejected})

# Which deadline a state is waiting for.
STEP_OF_STATE: dict[State, str] = {
    State.submitted: "accept",
    State.assigned: "accept",
    State.transferred: "accept",
    State.reopened: "accept",
    State.accepted: "on_site",
    State.on_site: "resolve",
}

# Who works reports (assign, transfer, reject, merge, close …) and who records them for others
# or on patrol is in the permission table: Perm.reports_work and Perm.reports_record.

FEEDBACK_DAYS = 7  # reopen window after resolution, and the auto-close delay
MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 10 * 1024 * 1024

SEVERITY_LABELS = {
    Severity.urgent: _l("紧急"),
    Severity.high: _l("较急"),
    Severity.normal: _l("一般"),
    Severity.low: _l("较缓"),
}
CHANNEL_LABELS = {
    Channel.resident_app: _lp("channel", "居民上报"),
    Channel.patrol: _lp("channel", "巡查上报"),
    Channel.phone: _lp("channel", "电话登记"),
    Channel.api: _lp("channel", "接口"),
    Channel.open311: _lp("channel", "Open311"),
    Channel.internal: _lp("channel", "系统生成"),
}
ACTION_LABELS = {
    Action.submit: _lp("action", "上报"),
    Action.route: _lp("action", "分派"),
    Action.assign: _lp("action", "指派"),
    Action.transfer: _lp("action", "转办"),
    Action.accept: _lp("action", "受理"),
    Action.check_in: _lp("action", "到场"),
    Action.resolve: _lp("action", "办结"),
    Action.close: _lp("action", "关闭"),
    Action.reject: _lp("action", "退回"),
    Action.merge: _lp("action", "合并"),
    Action.merged_in: _lp("action", "并入重复件"),
    Action.reopen: _lp("action", "重新打开"),
    Action.feedback: _lp("action", "评价"),
    Action.escalate: _lp("action", "升级督办"),
    Action.auto_close: _lp("action", "超时未评价自动关闭"),
}


def actor_kinds(
    *,
    user_id: int | None,
    role: Role,
    is_system: bool,
    in_scope: bool,
    reporter_user_id: int | None,
    handler_ids: tuple[int | None, ...],
) -> frozenset[ActorKind]:
    """Every capacity in which a user stands to one report (one may be reporter and staff).
    Staff: a role that works reports (``Perm.reports_work``) with the place in its scope."""
    kinds: set[ActorKind] = set()
    if is_system:
        kinds |= {ActorKind.system, ActorKind.staff}
    if user_id is not None and user_id == reporter_user_id:
        kinds.add(ActorKind.reporter)
    if user_id is not None and user_id in handler_ids:
        kinds.add(ActorKind.handler)
    if in_scope and has_perm(role, Perm.reports_work):
        kinds.add(ActorKind.staff)
    return frozenset(kinds)


def parse_actors(text: str) -> frozenset[ActorKind]:
    return frozenset(ActorKind(p.strip()) for p in text.split(",") if p.strip())
