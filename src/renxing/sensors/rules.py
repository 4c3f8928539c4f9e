"""Sensor rules on plain values: thresholds with hysteresis, rates of change, the snooze window.
Pure: readings and a rule's state in, the new state and what changed out.

A rule is either triggered or not for one device. Readings move it, one at a time in time order:

- **threshold**: triggered once a reading reaches ``threshold`` in the rule's ``direction``
  (``above``: value ≥ threshold; ``below``: value ≤ threshold); cleared only once a reading is back
  past ``clear_at`` (``above``: value < clear_at; ``below``: value > clear_at). With ``clear_at``
  a little on the safe side of the threshold, a level hovering at the threshold does not flap.
- **rate**: the change per minute over the last ``window_minutes`` — from the oldest reading
  inside the window to this one, when they span at least half the window (two readings a second
  apart say nothing of a trend) — reaching ``rate_per_minute`` in the direction (``above``: rising
  at least that fast; ``below``: falling); cleared once the rate is back under ``clear_at`` (a rate
  per minute; by default ``rate_per_minute``). No rate can be computed without an earlier reading
  in the window: the state then stays as it is.

**Snooze.** Becoming triggered *raises* (a report, a proposed warning) only when the rule has not
raised for this device within ``snooze_minutes``; otherwise it is *suppressed*: the state is
triggered, nothing is raised. A triggered rule never raises again before it clears, so a flood of a
thousand high readings raises once.
"""

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

ABOVE, BELOW = "above", "below"
THRESHOLD, RATE = "threshold", "rate"
Kind = Literal["raised", "suppressed", "cleared"]


@dataclass(frozen=True)
class Sample:
    at: datetime
    value: float


@dataclass(frozen=True)
class RuleSpec:
    rule_type: str = THRESHOLD  # threshold, rate
    direction: str = ABOVE  # above, below
    threshold: float | None = None
    clear_at: float | None = None  # threshold rules: a value; rate rules: a rate per minute
    rate_per_minute: float | None = None
    window_minutes: int = 10
    snooze_minutes: int = 60


@dataclass(frozen=True)
class RuleState:
    triggered: bool = False
    since: datetime | None = None  # when the present state (triggered or clear) began
    last_raised_at: datetime | None = None


@dataclass(frozen=True)
class Change:
    kind: Kind
    at: datetime
    value: float  # the reading that moved the rule
    rate: float | None = None  # rate rules: the change per minute that did


@dataclass(frozen=True)
class Outcome:
    state: RuleState
    changes: tuple[Change, ...]

    @property
    def raised(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "raised"]


class BadRule(ValueError):
    """A rule that cannot be evaluated (a threshold rule without a threshold …), naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def problems(spec: RuleSpec) -> list[tuple[str, str]]:
    """What is wrong with a rule, as (field, reason) pairs; none for a rule that can be evaluated."""
    out: list[tuple[str, str]] = []
    if spec.direction not in (ABOVE, BELOW):
        out.append(("direction", "above or below"))
    if spec.snooze_minutes < 0:
        out.append(("snooze_minutes", "not negative"))
    if spec.rule_type == THRESHOLD:
        if spec.threshold is None:
            out.append(("threshold", "required"))
        elif spec.clear_at is not None and not _on_safe_side(spec.direction, spec.clear_at, spec.threshold):
            out.append(("clear_at", "on the safe side of the threshold"))
    elif spec.rule_type == RATE:
        if spec.rate_per_minute is None or not spec.rate_per_minute > 0:
            out.append(("rate_per_minute", "positive"))
        elif spec.clear_at is not None and not 0 <= spec.clear_at <= spec.rate_per_minute:
            out.append(("clear_at", "between 0 and rate_per_minute"))
        if spec.window_minutes < 1:
            out.append(("window_minutes", "at least 1"))
    else:
        out.append(("rule_type", "threshold or rate"))
    return out


def _on_safe_side(direction: str, clear_at: float, threshold: float) -> bool:
    return clear_at <= threshold if direction == ABOVE else clear_at >= threshold


def clear_level(spec: RuleSpec) -> float:
    """Where a triggered rule clears: ``clear_at``, else the threshold (or the rate) itself."""
    if spec.clear_at is not None:
        return spec.clear_at
    limit = spec.threshold if spec.rule_type == THRESHOLD else spec.rate_per_minute
    if limit is None:
        raise BadRule("threshold" if spec.rule_type == THRESHOLD else "rate_per_minute", "required")
    return limit


# ---- one measure against the rule ---------------------------------------------------------------


def _beyond(direction: str, measure: float, limit: float) -> bool:
    return measure >= limit if direction == ABOVE else measure <= limit


def _back(direction: str, measure: float, clear: float) -> bool:
    return measure < clear if direction == ABOVE else measure > clear


def _step(spec: RuleSpec, state: RuleState, sample: Sample, measure: float, rate: float | None) -> Change | None:
    """Move the state by one measure (a value, or a signed rate turned the rule's way)."""
    if spec.rule_type == THRESHOLD:
        limit, clear = float(spec.threshold or 0.0), clear_level(spec)
        direction = spec.direction
    else:  # a rate: measured in the rule's direction, so "above" is what counts either way
        limit, clear = float(spec.rate_per_minute or 0.0), clear_level(spec)
        direction = ABOVE
    if not state.triggered:
        if not _beyond(direction, measure, limit):
            return None
        last = state.last_raised_at
        quiet = last is None or sample.at - last >= timedelta(minutes=spec.snooze_minutes)
        return Change("raised" if quiet else "suppressed", sample.at, sample.value, rate)
    if _back(direction, measure, clear):
        return Change("cleared", sample.at, sample.value, rate)
    return None


def _apply(state: RuleState, change: Change) -> RuleState:
    if change.kind == "cleared":
        return replace(state, triggered=False, since=change.at)
    raised = change.at if change.kind == "raised" else state.last_raised_at
    return RuleState(triggered=True, since=change.at, last_raised_at=raised)


# ---- a run of readings --------------------------------------------------------------------------


def _rates(spec: RuleSpec, samples: Sequence[Sample], history: Iterable[Sample]) -> list[float | None]:
    """For each sample, its change per minute over the window (signed, so "below" reads falling as
    positive), or None when no earlier reading in the window spans at least half of it."""
    window = timedelta(minutes=spec.window_minutes)
    least = window / 2
    sign = 1.0 if spec.direction == ABOVE else -1.0
    earlier: deque[Sample] = deque(sorted(history, key=lambda s: s.at))
    out: list[float | None] = []
    for s in samples:
        while earlier and earlier[0].at < s.at - window:
            earlier.popleft()
        first = earlier[0] if earlier else None
        if first is not None and first.at < s.at and s.at - first.at >= least:
            minutes = (s.at - first.at).total_seconds() / 60.0
            out.append(sign * (s.value - first.value) / minutes)
        else:
            out.append(None)
        earlier.append(s)
    return out


def evaluate(spec: RuleSpec, state: RuleState, samples: Sequence[Sample], history: Iterable[Sample] = ()) -> Outcome:
    """Run ``samples`` (in time order, each later than the readings already evaluated) through the
    rule from ``state``. ``history``: earlier readings of the device inside the rate window (rate
    rules only; the threshold needs none)."""
    bad = problems(spec)
    if bad:
        raise BadRule(*bad[0])
    changes: list[Change] = []
    if spec.rule_type == THRESHOLD:
        measures: Sequence[float | None] = [s.value for s in samples]
        rates: Sequence[float | None] = [None] * len(samples)
    else:
        rates = _rates(spec, samples, history)
        measures = rates
    for sample, measure, rate in zip(samples, measures, rates, strict=True):
        if measure is None:
            continue
        change = _step(spec, state, sample, measure, rate)
        if change is not None:
            state = _apply(state, change)
            changes.append(change)
    return Outcome(state, tuple(changes))


def history_needed(spec: RuleSpec) -> timedelta:
    """How far back before the first new reading ``evaluate`` must see the device's readings."""
    return timedelta(minutes=spec.window_minutes) if spec.rule_type == RATE else timedelta(0)


# ---- silence ----------------------------------------------------------------------------------------


def silent(last_heard: datetime, interval_seconds: int, factor: float, now: datetime) -> bool:
    """A device last heard from (or registered) at ``last_heard`` is offline at ``now`` once it has
    been quiet for more than ``factor`` reporting intervals."""
    return now - last_heard > timedelta(seconds=interval_seconds * factor)


def shown_state(
    state: str, active: bool, last_heard: datetime, interval_seconds: int, factor: float, now: datetime
) -> str:
    """The state a page or answer shows: a device silent past its interval reads ``offline``
    whatever was stored before the sweep came by, so silence is never shown as all clear."""
    if not active:
        return "inactive"
    if state != "offline" and silent(last_heard, interval_seconds, factor, now):
        return "offline"
    return state
