"""Deadlines of the steps of a report and the escalation ladder. No I/O.

Severity gives minutes, counted from submission, to accept, to be on site and to resolve
(the service level, kept on the report for statistics). The escalation sweep looks at a
report again at ``next_due``: the deadline of the step its state waits for, or, when that
has already passed (an action came late, or it was just escalated), a fresh grace period
as long as the step itself. A resolved report is due for auto-closing seven days after
resolution.

The ladder is the five-level chain above a place (党员 → 党小组长 → 支委委员 → 支部书记 →
社区书记): levels 1 to 5. Each overdue step climbs to the next level that has someone;
nothing climbs beyond the community secretary.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from renxing.events.policy import FEEDBACK_DAYS, STEP_OF_STATE, State

LADDER_DUTIES = ["party_member", "party_group_leader", "branch_committee", "branch_secretary", "secretary"]
LEVEL_OF_DUTY = {d: i + 1 for i, d in enumerate(LADDER_DUTIES)}
TOP_LEVEL = len(LADDER_DUTIES)


@dataclass(frozen=True)
class Minutes:
    accept: int
    on_site: int
    resolve: int

    def step(self, step: str) -> int:
        """How long the step itself lasts: the grace given after it is overdue."""
        if step == "accept":
            return max(self.accept, 1)
        if step == "on_site":
            return max(self.on_site - self.accept, self.accept, 1)
        return max(self.resolve - self.on_site, self.accept, 1)


def due_times(start: datetime, m: Minutes) -> tuple[datetime, datetime, datetime]:
    return (
        start + timedelta(minutes=m.accept),
        start + timedelta(minutes=m.on_site),
        start + timedelta(minutes=m.resolve),
    )


def step_deadline(step: str, due_accept: datetime, due_on_site: datetime, due_resolve: datetime) -> datetime:
    return {"accept": due_accept, "on_site": due_on_site, "resolve": due_resolve}[step]


def next_due(
    state: State,
    now: datetime,
    m: Minutes,
    *,
    due_accept: datetime,
    due_on_site: datetime,
    due_resolve: datetime,
    resolved_at: datetime | None = None,
) -> datetime | None:
    """When the sweep must look at a report in ``state`` again (None: never, it is finished)."""
    if state is State.resolved:
        return (resolved_at or now) + timedelta(days=FEEDBACK_DAYS)
    step = STEP_OF_STATE.get(state)
    if step is None:
        return None
    due = step_deadline(step, due_accept, due_on_site, due_resolve)
    return due if due > now else now + timedelta(minutes=m.step(step))


def grace_after_escalation(state: State, now: datetime, m: Minutes) -> datetime | None:
    step = STEP_OF_STATE.get(state)
    return None if step is None else now + timedelta(minutes=m.step(step))


@dataclass(frozen=True)
class Rung:
    level: int  # 1 party member … 5 community secretary
    duty: str
    label: str  # e.g. "1栋 党小组长 钱组长"
    user_id: int | None  # the first holder with an account, who is notified


def next_rung(ladder: list[Rung], current: int) -> Rung | None:
    """The lowest rung above ``current``; ``ladder`` holds only levels that have someone."""
    return next((r for r in sorted(ladder, key=lambda r: r.level) if r.level > current), None)


def overdue_steps(
    now: datetime,
    *,
    due_accept: datetime,
    due_on_site: datetime,
    due_resolve: datetime,
    accepted_at: datetime | None,
    on_site_at: datetime | None,
    resolved_at: datetime | None,
    open_: bool,
) -> list[str]:
    """Steps done late, or still undone after their deadline while the report is open."""
    out = []
    for step, due, done in (
        ("accept", due_accept, accepted_at),
        ("on_site", due_on_site, on_site_at),
        ("resolve", due_resolve, resolved_at),
    ):
        if (done is not None and done > due) or (done is None and open_ and now > due):
            out.append(step)
    return out
