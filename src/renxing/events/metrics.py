"""Numbers of the dashboard, computed from plain rows. No I/O.

For a group of reports: how many, how many open, the minutes from submission to acceptance,
to being on site and to resolution (median and 90th percentile), the overdue rate (reports
with any step late ÷ reports), the closed-loop rate (closed with the reporter's feedback ÷
reports) and satisfaction (mean rating 1–5). Duplicates merged into another report are
left out: they are counted in the report that absorbed them.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from renxing.events.deadlines import overdue_steps
from renxing.events.policy import OPEN_STATES, State


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (NumPy's default, Excel's PERCENTILE.INC)."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass(frozen=True)
class Row:
    key: Any
    state: str
    created_at: datetime
    accepted_at: datetime | None
    on_site_at: datetime | None
    resolved_at: datetime | None
    due_accept: datetime
    due_on_site: datetime
    due_resolve: datetime
    feedback_at: datetime | None
    feedback_rating: int | None


def _minutes(a: datetime, b: datetime | None) -> float | None:
    return None if b is None else (b - a).total_seconds() / 60


def _spread(values: list[float]) -> dict[str, float | None]:
    r = lambda x: None if x is None else round(x, 1)  # noqa: E731
    return {"median": r(quantile(values, 0.5)), "p90": r(quantile(values, 0.9)), "n": len(values)}


def summarize(rows: Iterable[Row], now: datetime) -> dict[str, Any]:
    rows = [r for r in rows if r.state != State.merged.value]
    n = len(rows)
    accept = [m for r in rows if (m := _minutes(r.created_at, r.accepted_at)) is not None]
    on_site = [m for r in rows if (m := _minutes(r.created_at, r.on_site_at)) is not None]
    resolve = [m for r in rows if (m := _minutes(r.created_at, r.resolved_at)) is not None]
    overdue = sum(
        1
        for r in rows
        if overdue_steps(
            now,
            due_accept=r.due_accept,
            due_on_site=r.due_on_site,
            due_resolve=r.due_resolve,
            accepted_at=r.accepted_at,
            on_site_at=r.on_site_at,
            resolved_at=r.resolved_at,
            open_=State(r.state) in OPEN_STATES,
        )
    )
    looped = sum(1 for r in rows if r.state == State.closed.value and r.feedback_at is not None)
    ratings = [r.feedback_rating for r in rows if r.feedback_rating is not None]
    by_state: dict[str, int] = {}
    for r in rows:
        by_state[r.state] = by_state.get(r.state, 0) + 1
    return {
        "count": n,
        "open": sum(1 for r in rows if State(r.state) in OPEN_STATES),
        "by_state": by_state,
        "minutes_to_accept": _spread(accept),
        "minutes_to_on_site": _spread(on_site),
        "minutes_to_resolve": _spread(resolve),
        "overdue": overdue,
        "overdue_rate": round(overdue / n, 4) if n else None,
        "closed_with_feedback": looped,
        "closed_loop_rate": round(looped / n, 4) if n else None,
        "ratings": len(ratings),
        "satisfaction": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }


def group(rows: Iterable[Row], now: datetime) -> dict[Any, dict[str, Any]]:
    buckets: dict[Any, list[Row]] = {}
    for r in rows:
        buckets.setdefault(r.key, []).append(r)
    return {k: summarize(v, now) for k, v in buckets.items()}
