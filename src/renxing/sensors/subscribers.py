"""The sensors' side of the closed loop's events: a report raised from a trigger is linked to it."""

from sqlalchemy import update
from sqlalchemy.orm import Session

from renxing.sensors.models import SensorTrigger
from renxing.signals.catalog import ReportSubmitted

TRIGGER_REFS = ("sensor-trigger-", "sensor-offline-")  # the references the closed loop gives these reports


def link_trigger(session: Session, e: ReportSubmitted) -> None:
    """The trigger that asked for the report records its id (one statement that reads nothing back)."""
    ref = e.external_ref or ""
    for prefix in TRIGGER_REFS:
        if ref.startswith(prefix) and ref[len(prefix) :].isdigit():
            trigger_id = int(ref[len(prefix) :])
            session.connection().execute(
                update(SensorTrigger.__table__).where(SensorTrigger.id == trigger_id).values(report_id=e.report_id)
            )
            return
