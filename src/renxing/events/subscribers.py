"""The closed loop's side of other domains' events: what they flag becomes a report."""

from sqlalchemy.orm import Session

from renxing.events import intake
from renxing.i18n import bilingual
from renxing.signals.catalog import SensorOffline, SensorRuleTriggered, VisitFlagged

CARE_CATEGORY = "needs_help"  # 困难求助: what a care visit's problem is in the closed loop


def raise_from_visit(session: Session, e: VisitFlagged) -> None:
    """A report at the resident's household through the one intake pipeline, as the system.
    Its ``events.report_submitted`` carries the reference back to the visit."""
    intake.submit_internal(
        session,
        category=CARE_CATEGORY,
        description=e.description,
        source=e.source,
        household_id=e.household_id,
        external_ref=f"care-visit-{e.visit_id}",
        now=e.at,
    )


SENSOR_REF = "sensor-trigger-"  # the reference of a report raised by a sensor rule
OFFLINE_REF = "sensor-offline-"  # … and of one raised for a silent device
OFFLINE_CATEGORY = "damaged_facility"  # 设施损坏: a silent sensor is a facility to check


def raise_from_sensor(session: Session, e: SensorRuleTriggered) -> None:
    """A report at the device's unit, routed like any other (the grid worker of its area)."""
    reading = f"{e.value:g}{e.measure_unit}"
    intake.submit_internal(
        session,
        category=e.category,
        description=bilingual("{device}：{rule}，读数 {reading}", device=e.device, rule=e.rule, reading=reading),
        source=e.device,
        unit_id=e.unit_id,
        lon=e.lon,
        lat=e.lat,
        external_ref=f"{SENSOR_REF}{e.trigger_id}",
        now=e.at,
    )


def raise_offline_sensor(session: Session, e: SensorOffline) -> None:
    """A silent device is checked on site: a report at its unit."""
    last = e.last_reading_at.isoformat(timespec="minutes") if e.last_reading_at else "—"
    intake.submit_internal(
        session,
        category=OFFLINE_CATEGORY,
        description=bilingual("传感器离线：{device}，最后读数时间 {last}", device=e.device, last=last),
        source=e.device,
        unit_id=e.unit_id,
        external_ref=f"{OFFLINE_REF}{e.trigger_id}",
        now=e.at,
    )
