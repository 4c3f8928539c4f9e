"""The domain events of the application, declared on the application's bus.

Each is a frozen dataclass of ids and plain values with a stable name ``<publisher>.<what
happened>``; its docstring says when it is published. Payloads carry what the subscribers
need and no more: ids, states, labels, and the free text only where a message shows it.
Who listens is in :mod:`renxing.signals.wiring`; ``renxing signals catalog`` prints the table.
"""

from dataclasses import dataclass
from datetime import datetime

from renxing.signals.bus import Event, bus


@bus.event("care.visit_flagged", publisher="care")
@dataclass(frozen=True, kw_only=True)
class VisitFlagged(Event):
    """A care visit found a problem and the carer asked for it to be handled (困难求助), when
    the visit is recorded or later from the visit. The closed loop raises a report at the
    resident's household; its reference is ``care-visit-<visit_id>``."""

    visit_id: int
    household_id: int | None
    description: str  # what was found, for whoever handles it
    source: str  # who found it, shown as the reporter
    at: datetime


@bus.event("events.report_submitted", publisher="events")
@dataclass(frozen=True, kw_only=True)
class ReportSubmitted(Event):
    """A report entered the closed loop from any channel, placed and routed (intake)."""

    report_id: int
    category: str  # the category's name
    state: str  # submitted, or assigned when routing found a handler
    handler_user_id: int | None
    external_ref: str | None  # the raising system's or domain's reference, e.g. care-visit-12
    summary: str  # the start of the description and the address, for the handler's message
    link: str


@bus.event("events.report_transitioned", publisher="events")
@dataclass(frozen=True, kw_only=True)
class ReportTransitioned(Event):
    """A person's action moved a report along the transition table (assign, transfer, accept,
    check_in, resolve, close, reject, merge, reopen, feedback), or a duplicate was merged into
    it (merged_in). Handler and followers are those after the action."""

    report_id: int
    action: str
    from_state: str
    to_state: str
    category: str
    actor_user_id: int | None
    handler_user_id: int | None
    escalated_to_user_id: int | None
    follower_ids: tuple[int, ...]
    note: str | None  # the reason or note the actor wrote, when the step shows one
    previous_handler_id: int | None = None  # transfer: who had it before
    other_report_id: int | None = None  # merge: the original; merged_in: the duplicate
    rating: int | None = None  # feedback: the reporter's stars
    link: str


@bus.event("events.report_escalated", publisher="events")
@dataclass(frozen=True, kw_only=True)
class ReportEscalated(Event):
    """One report climbed a level of the responsibility chain at once (the reporter said it
    was not solved); the sweep's escalations come as ``events.escalation_digest``."""

    report_id: int
    category: str
    level: int
    handler_user_id: int | None
    escalated_to_user_id: int | None
    reason: str
    link: str


@bus.event("events.escalation_digest", publisher="events")
@dataclass(frozen=True, kw_only=True)
class EscalationDigest(Event):
    """The escalation sweep climbed overdue reports: one per person they climbed to
    (``reached``) and one per handler whose reports they were (``handler``)."""

    user_id: int
    role: str  # reached | handler
    count: int
    first_report_id: int  # the lowest id among them
    link: str  # that report when it is the only one, else the list to look at


@bus.event("events.reports_auto_closed", publisher="events")
@dataclass(frozen=True, kw_only=True)
class ReportsAutoClosed(Event):
    """The escalation sweep closed resolved reports left without feedback for seven days."""

    followers: tuple[tuple[int, int, str], ...]  # (report id, user id, link) per follower of each report
    at: datetime


@bus.event("supplies.agreement_expiring", publisher="supplies")
@dataclass(frozen=True, kw_only=True)
class AgreementExpiring(Event):
    """A supply agreement ends within 30 days and has not been renewed: once per agreement and
    end date, from the daily reminder run. The community's staff and the partner's account are told."""

    agreement_id: int
    number: str
    organization: str  # the partner's name
    valid_until: str  # ISO date
    recipients: tuple[int, ...]
    link: str


@bus.event("supplies.stock_below_minimum", publisher="supplies")
@dataclass(frozen=True, kw_only=True)
class StockBelowMinimum(Event):
    """A movement took a point's stock of an item below its minimum level (once, until it is
    restocked above the minimum). Staff of the point's community are told."""

    point_id: int
    point: str
    item: str
    unit: str
    level: int
    minimum: int
    recipients: tuple[int, ...]
    link: str


@bus.event("sensors.rule_triggered", publisher="sensors")
@dataclass(frozen=True, kw_only=True)
class SensorRuleTriggered(Event):
    """A sensor rule fired for a device (a threshold crossed, a rate exceeded), once per snooze
    window. The closed loop raises a report at the device's unit (reference
    ``sensor-trigger-<trigger_id>``); early warning proposes a warning to staff by the level."""

    trigger_id: int
    device_id: int
    device: str  # the device's name and code, as a message shows it
    kind: str  # the device kind (water_level, smoke …)
    rule: str  # the rule's name
    level: str  # blue, yellow, orange, red
    category: str  # the closed loop's report category
    value: float
    measure_unit: str
    unit_id: int  # the grid unit the device is placed at
    lon: float | None
    lat: float | None
    at: datetime


@bus.event("sensors.device_offline", publisher="sensors")
@dataclass(frozen=True, kw_only=True)
class SensorOffline(Event):
    """A device stayed silent past its reporting interval (never read as all clear), once until
    it reports again. The closed loop raises a report at its unit (reference
    ``sensor-offline-<trigger_id>``)."""

    trigger_id: int
    device_id: int
    device: str
    kind: str
    unit_id: int
    last_reading_at: datetime | None
    at: datetime


@bus.event("warning.alert_received", publisher="warning")
@dataclass(frozen=True, kw_only=True)
class AlertReceived(Event):
    """An incoming CAP alert (new, an update or a cancellation) was accepted and matched to
    communities. Staff whose scope covers a matched community are told."""

    alert_id: int
    identifier: str
    msg_type: str
    level: str | None
    headline: str
    community_ids: tuple[int, ...]
    recipients: tuple[int, ...]
    link: str


@bus.event("warning.proposed", publisher="warning")
@dataclass(frozen=True, kw_only=True)
class WarningProposed(Event):
    """A draft warning was proposed to staff (from a sensor trigger or an incoming alert), or a
    composed orange or red warning awaits a second staff member's approval (``approval``)."""

    warning_id: int
    level: str
    headline: str
    approval: bool
    recipients: tuple[int, ...]
    link: str


@bus.event("warning.sent", publisher="warning")
@dataclass(frozen=True, kw_only=True)
class WarningSent(Event):
    """A warning (Alert, Update or Cancel) was sent: frozen, its households targeted and their
    deliveries queued. ``door_to_door`` are the building leaders and carers of vulnerable
    households, told to check on them in person."""

    warning_id: int
    msg_type: str
    level: str
    headline: str
    households: int
    door_to_door: tuple[int, ...]
    link: str


@bus.event("warning.households_unreached", publisher="warning")
@dataclass(frozen=True, kw_only=True)
class HouseholdsUnreached(Event):
    """At a deadline, households of a sent warning still unacknowledged climbed one rung of the
    responsibility chain: each recipient is told how many of theirs to call or visit."""

    warning_id: int
    rung: int
    headline: str
    counts: tuple[tuple[int, int], ...]  # (user id, households to reach)
    link: str


@bus.event("response.mode_changed", publisher="response")
@dataclass(frozen=True, kw_only=True)
class ModeChanged(Event):
    """A community's operating mode was switched (normal, alert, emergency, recovery), by hand or
    by confirming a proposed switch. Staff whose scope covers the community are told."""

    unit_id: int
    community: str
    from_state: str
    to_state: str
    exercise: bool  # an exercise (演练): the messages say so
    reason: str | None
    to_name: str  # the new mode's name, stored in both languages
    recipients: tuple[int, ...]
    link: str


@bus.event("response.mode_proposed", publisher="response")
@dataclass(frozen=True, kw_only=True)
class ModeProposed(Event):
    """A rule proposed switching a community's mode (a red warning sent over it, a red sensor
    trigger in it), once per source. Staff whose scope covers the community confirm or dismiss it."""

    proposal_id: int
    unit_id: int
    community: str
    to_state: str
    exercise: bool
    reason: str
    to_name: str  # the proposed mode's name, stored in both languages
    recipients: tuple[int, ...]
    link: str
