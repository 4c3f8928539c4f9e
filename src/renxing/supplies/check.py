"""``renxing supplies check``: every balance recomputed from the ledger and compared.

The ledger is the truth; ``supply_balances`` is kept in step with it by ``ledger.post`` so that a
level is one row read. This check sums the whole ledger in one grouped read (point × item × lot)
and reports each key where the two disagree: a balance row missing, a balance row with no entry
behind it, a different quantity, or a negative level.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renxing.i18n import _l
from renxing.supplies.models import Balance, Movement

Progress = Callable[[int, int], None]  # (keys read, keys expected)


class Problem:
    missing = "missing"  # entries in the ledger, no balance row
    extra = "extra"  # a balance row, no entry in the ledger
    different = "different"  # both, with different quantities
    negative = "negative"  # a level below zero (the ledger's sum or the balance row)


PROBLEM_LABELS = {
    Problem.missing: _l("缺少余额行"),
    Problem.extra: _l("余额行无对应流水"),
    Problem.different: _l("数量不符"),
    Problem.negative: _l("库存为负"),
}


@dataclass(frozen=True)
class Difference:
    point_id: int
    item_id: int
    lot: str
    problem: str
    ledger: int | None  # the sum of the entries (None: no entry)
    balance: int | None  # the balance row's quantity (None: no row)


@dataclass
class CheckResult:
    movements: int = 0
    balances: int = 0
    keys: int = 0  # point × item × lot in the ledger
    seconds: float = 0.0
    differences: list[Difference] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.differences


def check(session: Session, progress: Progress | None = None, *, batch: int = 5_000) -> CheckResult:
    """Compare every balance with the sum of its ledger entries."""
    started = time.perf_counter()
    result = CheckResult()
    stored = {
        (p, i, lot): q
        for p, i, lot, q in session.execute(select(Balance.point_id, Balance.item_id, Balance.lot, Balance.quantity))
    }
    result.balances = len(stored)
    sums = (
        select(Movement.point_id, Movement.item_id, Movement.lot, func.sum(Movement.quantity), func.count())
        .group_by(Movement.point_id, Movement.item_id, Movement.lot)
        .execution_options(yield_per=batch)
    )
    for point_id, item_id, lot, total, entries in session.execute(sums):
        key = (point_id, item_id, lot)
        result.keys += 1
        result.movements += entries
        _compare(result.differences, key, int(total), stored.pop(key, None))
        if progress is not None and result.keys % batch == 0:
            progress(result.keys, result.balances)
    for (point_id, item_id, lot), quantity in stored.items():
        result.differences.append(Difference(point_id, item_id, lot, Problem.extra, None, quantity))
    if progress is not None:
        progress(result.balances, result.balances)
    result.differences.sort(key=lambda d: (d.point_id, d.item_id, d.lot))
    result.seconds = time.perf_counter() - started
    return result


def _compare(out: list[Difference], key: tuple[int, int, str], total: int, quantity: int | None) -> None:
    if quantity is None:
        out.append(Difference(*key, Problem.missing, total, None))
    elif quantity != total:
        out.append(Difference(*key, Problem.different, total, quantity))
    elif total < 0:
        out.append(Difference(*key, Problem.negative, total, quantity))
