"""Who listens to what: every subscription of the application, in one place.

The application's bus loads this module before its first publication, delivery or catalogue
(:meth:`Bus.ensure_wired`), so the web app, the CLI, the scheduler and the tests all run with
the same graph. Inline subscribers share the publisher's transaction; after-commit ones are
delivered from the outbox in their own.
"""

from renxing.care import subscribers as care
from renxing.events import subscribers as events
from renxing.notify import subscribers as notify
from renxing.response import subscribers as response
from renxing.sensors import subscribers as sensors
from renxing.signals.bus import Bus, Mode
from renxing.signals.catalog import (
    AgreementExpiring,
    AlertReceived,
    EscalationDigest,
    HouseholdsUnreached,
    ModeChanged,
    ModeProposed,
    ReportEscalated,
    ReportsAutoClosed,
    ReportSubmitted,
    ReportTransitioned,
    SensorOffline,
    SensorRuleTriggered,
    StockBelowMinimum,
    VisitFlagged,
    WarningProposed,
    WarningSent,
)
from renxing.warning import subscribers as warning


def wire(bus: Bus) -> None:
    # care → events: a visit's problem is raised as a report with the visit, or not at all.
    bus.subscribe(VisitFlagged, events.raise_from_visit, name="events.raise_from_visit", mode=Mode.inline)
    # events → care: the report raised from a visit is linked to it.
    bus.subscribe(ReportSubmitted, care.link_visit, name="care.link_visit", mode=Mode.inline, writes_only=True)
    # events → notify: the inbox message commits with the step it tells of. The handler's
    # message only writes unless e-mail or webhooks are on (then it reads the new ids back).
    bus.subscribe(
        ReportSubmitted,
        notify.tell_handler,
        name="notify.tell_handler",
        mode=Mode.inline,
        writes_only=notify.writes_only,
    )
    bus.subscribe(ReportTransitioned, notify.tell_transition, name="notify.tell_transition", mode=Mode.inline)
    bus.subscribe(ReportEscalated, notify.tell_escalation, name="notify.tell_escalation", mode=Mode.inline)
    bus.subscribe(EscalationDigest, notify.tell_digest, name="notify.tell_digest", mode=Mode.inline)
    bus.subscribe(ReportsAutoClosed, notify.tell_auto_closed, name="notify.tell_auto_closed", mode=Mode.inline)
    # supplies → notify: reminders and low-stock notices may come a moment after the change.
    bus.subscribe(
        AgreementExpiring, notify.tell_agreement_expiring, name="notify.tell_agreement_expiring", mode=Mode.after_commit
    )
    bus.subscribe(
        StockBelowMinimum,
        notify.tell_stock_below_minimum,
        name="notify.tell_stock_below_minimum",
        mode=Mode.after_commit,
    )
    # sensors → events: a triggered rule or a silent device is a report, raised with the trigger or not at all.
    bus.subscribe(SensorRuleTriggered, events.raise_from_sensor, name="events.raise_from_sensor", mode=Mode.inline)
    bus.subscribe(SensorOffline, events.raise_offline_sensor, name="events.raise_offline_sensor", mode=Mode.inline)
    # events → sensors: the report raised from a trigger is linked to it.
    bus.subscribe(
        ReportSubmitted, sensors.link_trigger, name="sensors.link_trigger", mode=Mode.inline, writes_only=True
    )
    # sensors → warning: a trigger at yellow or above proposes a draft warning, with the trigger or not at all.
    bus.subscribe(
        SensorRuleTriggered, warning.propose_from_trigger, name="warning.propose_from_trigger", mode=Mode.inline
    )
    # warning → warning: an incoming alert at yellow or above proposes a draft per matched community, a
    # moment after it is received (a failed proposal never refuses the alert).
    bus.subscribe(AlertReceived, warning.propose_from_alert, name="warning.propose_from_alert", mode=Mode.after_commit)
    # warning → notify: staff, approvers, door-to-door checkers and the chain hear a moment after the change.
    for event, handler in (
        (AlertReceived, notify.tell_alert_received),
        (WarningProposed, notify.tell_warning_proposed),
        (WarningSent, notify.tell_warning_sent),
        (HouseholdsUnreached, notify.tell_households_unreached),
    ):
        bus.subscribe(event, handler, name=f"notify.{handler.__name__}", mode=Mode.after_commit)
    # warning, sensors → response: a red warning sent or a red trigger proposes switching the community
    # to emergency, a moment after (a failed proposal never holds the warning or the reading back).
    bus.subscribe(
        WarningSent, response.propose_from_warning, name="response.propose_from_warning", mode=Mode.after_commit
    )
    bus.subscribe(
        SensorRuleTriggered, response.propose_from_trigger, name="response.propose_from_trigger", mode=Mode.after_commit
    )
    # response → notify: staff hear of a switch made or proposed a moment after it.
    for event, handler in ((ModeChanged, notify.tell_mode_changed), (ModeProposed, notify.tell_mode_proposed)):
        bus.subscribe(event, handler, name=f"notify.{handler.__name__}", mode=Mode.after_commit)
    # notify keeps its own outbox for e-mail and webhooks (sent outside any transaction).
    bus.relay("notify.retry_deliveries", notify.retry_deliveries)
