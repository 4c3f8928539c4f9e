"""What operating modes do when another domain's event arrives (subscribed in ``signals/wiring.py``)."""

from sqlalchemy.orm import Session

from renxing.response import proposals
from renxing.signals.catalog import SensorRuleTriggered, WarningSent
from renxing.warning import directory as warnings


def propose_from_warning(session: Session, e: WarningSent) -> None:
    """A red warning was sent: its community's staff are asked to switch to emergency."""
    if e.level != "red" or e.msg_type == "Cancel":
        return
    proposals.propose_from_warning(session, e.warning_id, warnings.warning_place(session, e.warning_id))


def propose_from_trigger(session: Session, e: SensorRuleTriggered) -> None:
    """A red sensor trigger: its community's staff are asked to switch to emergency."""
    what = f"{e.device} {e.rule} {e.value:g}{e.measure_unit}"
    proposals.propose_from_trigger(session, e.trigger_id, e.unit_id, e.level, what)
