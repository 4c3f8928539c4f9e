"""What early warning does when another domain's event arrives (subscribed in ``signals/wiring.py``)."""

from sqlalchemy.orm import Session

from renxing.signals.catalog import AlertReceived, SensorRuleTriggered
from renxing.warning import proposing


def propose_from_trigger(session: Session, e: SensorRuleTriggered) -> None:
    """A sensor rule fired at yellow or above: a draft warning is proposed to the community's staff."""
    proposing.propose_from_trigger(session, e)


def propose_from_alert(session: Session, e: AlertReceived) -> None:
    """An incoming alert at yellow or above: a draft warning is proposed to each matched community's staff."""
    proposing.propose_from_alert(session, e)
