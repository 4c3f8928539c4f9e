"""Small helpers of the stock tests: acting as a test-world account, reading levels and the ledger."""

from datetime import timedelta

from sqlalchemy import func, select

from renxing.auth import service as auth_service
from renxing.auth.models import User
from renxing.auth.principal import Principal
from renxing.db import transaction, utcnow
from renxing.supplies import ledger
from renxing.supplies.access import local_day
from renxing.supplies.models import Balance, Movement

TODAY = local_day(utcnow())  # where the platform runs: expiry is a local date
SOON = TODAY + timedelta(days=30)
LATER = TODAY + timedelta(days=300)
GONE = TODAY - timedelta(days=3)


def acting(engine, username: str) -> Principal:
    with transaction(engine) as s:
        return auth_service.principal_for(s, s.scalar(select(User).where(User.username == username)))


def level(engine, point_id: int, item_id: int) -> int:
    with transaction(engine) as s:
        return ledger.level(s, point_id, item_id)


def lots(engine, point_id: int, item_id: int) -> dict[str, int]:
    with transaction(engine) as s:
        rows = s.execute(
            select(Balance.lot, Balance.quantity).where(Balance.point_id == point_id, Balance.item_id == item_id)
        )
        return {lot: q for lot, q in rows if q}


def entries(engine) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).select_from(Movement)) or 0
