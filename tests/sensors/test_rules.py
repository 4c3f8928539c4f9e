"""The pure rules: thresholds with hysteresis, rates of change, the snooze window, silence."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renxing.sensors.rules import (
    BadRule,
    RuleSpec,
    RuleState,
    Sample,
    evaluate,
    problems,
    shown_state,
    silent,
)
from renxing.sensors.series import thin

T0 = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
LEVEL = RuleSpec(threshold=30.0, clear_at=25.0, snooze_minutes=60)
FALLING = RuleSpec(direction="below", threshold=10.0, clear_at=12.0, snooze_minutes=0)
RISING = RuleSpec(rule_type="rate", rate_per_minute=1.0, window_minutes=10, snooze_minutes=0)


def samples(values, start=T0, step=60):
    return [Sample(start + timedelta(seconds=i * step), float(v)) for i, v in enumerate(values)]


def kinds(outcome):
    return [c.kind for c in outcome.changes]


# ---- examples -------------------------------------------------------------------------------------


def test_threshold_triggers_at_the_threshold_and_clears_only_past_clear_at():
    out = evaluate(LEVEL, RuleState(), samples([20, 29.9, 30, 28, 26, 25, 24.9, 31]))
    assert kinds(out) == ["raised", "cleared", "suppressed"]  # 31 is within the hour: no second report
    assert [c.value for c in out.changes] == [30, 24.9, 31]
    assert out.state.triggered and out.state.last_raised_at == T0 + timedelta(minutes=2)


def test_a_below_rule_mirrors_the_above_rule():
    out = evaluate(FALLING, RuleState(), samples([15, 10, 11, 12, 12.1, 9]))
    assert kinds(out) == ["raised", "cleared", "raised"]
    assert [c.value for c in out.changes] == [10, 12.1, 9]


def test_a_raise_after_the_snooze_window_is_raised_again():
    values = [31, 20] + [20] * 60 + [31]  # the third crossing comes 62 minutes after the first
    out = evaluate(LEVEL, RuleState(), samples(values))
    assert kinds(out) == ["raised", "cleared", "raised"]


def test_a_rate_rule_needs_half_a_window_of_history():
    # +2 cm a minute from the start: the first readings have no earlier one half a window back.
    out = evaluate(RISING, RuleState(), samples([0, 2, 4, 6, 8, 10, 12]))
    assert kinds(out) == ["raised"]
    assert out.changes[0].at == T0 + timedelta(minutes=5) and out.changes[0].rate == pytest.approx(2.0)
    flat = evaluate(RISING, out.state, samples([12] * 12, start=T0 + timedelta(minutes=7)))
    assert kinds(flat) == ["cleared"]


def test_a_rate_rule_reads_the_history_before_the_batch():
    history = samples([0, 0, 0, 0, 0, 0], start=T0)
    out = evaluate(RISING, RuleState(), samples([20], start=T0 + timedelta(minutes=6)), history)
    assert kinds(out) == ["raised"] and out.changes[0].rate == pytest.approx(20 / 6)


def test_a_falling_rate_rule():
    spec = RuleSpec(rule_type="rate", direction="below", rate_per_minute=1.0, window_minutes=4, snooze_minutes=0)
    out = evaluate(spec, RuleState(), samples([50, 50, 50, 44, 40]))
    assert kinds(out) == ["raised"] and out.changes[0].rate == pytest.approx(2.0)  # 6 cm in 3 minutes


def test_rules_that_cannot_be_evaluated_are_named():
    assert problems(RuleSpec()) == [("threshold", "required")]
    assert [f for f, _ in problems(RuleSpec(threshold=30, clear_at=31))] == ["clear_at"]
    assert [f for f, _ in problems(RuleSpec(direction="below", threshold=10, clear_at=9))] == ["clear_at"]
    assert [f for f, _ in problems(RuleSpec(rule_type="rate", rate_per_minute=0))] == ["rate_per_minute"]
    assert [f for f, _ in problems(RuleSpec(rule_type="rate", rate_per_minute=1, clear_at=2))] == ["clear_at"]
    with pytest.raises(BadRule):
        evaluate(RuleSpec(), RuleState(), samples([1]))


def test_silence_and_the_state_shown():
    heard = T0
    assert not silent(heard, 60, 3.0, T0 + timedelta(minutes=3))
    assert silent(heard, 60, 3.0, T0 + timedelta(minutes=3, seconds=1))
    later = T0 + timedelta(hours=1)
    assert shown_state("normal", True, heard, 60, 3.0, later) == "offline"  # never "all clear" when silent
    assert shown_state("alarm", True, heard, 60, 3.0, later) == "offline"
    assert shown_state("normal", True, heard, 60, 3.0, T0 + timedelta(minutes=1)) == "normal"
    assert shown_state("normal", False, heard, 60, 3.0, later) == "inactive"


def test_thinning_keeps_every_peak():
    points = [(T0 + timedelta(minutes=i), 10.0 + (50.0 if i == 777 else 0.0)) for i in range(5000)]
    out = thin(points, 100)
    assert len(out) <= 200
    assert (points[777][0], 60.0) in out
    assert [p[0] for p in out] == sorted(p[0] for p in out)
    assert thin(points[:10], 100) == points[:10]


# ---- properties ----------------------------------------------------------------------------------


values = st.lists(st.floats(min_value=0, max_value=60, allow_nan=False), min_size=1, max_size=200)
gaps = st.lists(st.integers(min_value=1, max_value=900), min_size=200, max_size=200)


def timed(vals, steps):
    at, out = T0, []
    for v, step in zip(vals, steps, strict=False):
        at += timedelta(seconds=step)
        out.append(Sample(at, v))
    return out


@settings(max_examples=150, deadline=None)
@given(vals=values, steps=gaps, snooze=st.integers(min_value=0, max_value=120))
def test_raises_are_a_snooze_window_apart_and_never_while_triggered(vals, steps, snooze):
    spec = RuleSpec(threshold=30.0, clear_at=25.0, snooze_minutes=snooze)
    out = evaluate(spec, RuleState(), timed(vals, steps))
    raised = [c.at for c in out.changes if c.kind == "raised"]
    assert all(b - a >= timedelta(minutes=snooze) for a, b in pairwise(raised))
    # Changes alternate: becoming triggered (raised or suppressed), then cleared, and so on.
    for prev, nxt in pairwise(out.changes):
        assert (prev.kind == "cleared") != (nxt.kind == "cleared")
    if out.changes:
        assert out.state.triggered == (out.changes[-1].kind != "cleared")


@settings(max_examples=150, deadline=None)
@given(vals=values, steps=gaps)
def test_hysteresis_the_state_follows_the_last_reading_outside_the_band(vals, steps):
    out = evaluate(LEVEL, RuleState(), timed(vals, steps))
    outside = [v for v in vals if v >= 30.0 or v < 25.0]
    assert out.state.triggered == (bool(outside) and outside[-1] >= 30.0)
    # A reading inside the band [25, 30) never moves the rule.
    assert all(c.value >= 30.0 or c.value < 25.0 for c in out.changes)


@settings(max_examples=100, deadline=None)
@given(vals=values, steps=gaps, cut=st.integers(min_value=0, max_value=200), rate=st.booleans())
def test_one_batch_or_two_gives_the_same_result(vals, steps, cut, rate):
    spec = RuleSpec(rule_type="rate", rate_per_minute=0.5, window_minutes=15, snooze_minutes=20) if rate else LEVEL
    run = timed(vals, steps)
    whole = evaluate(spec, RuleState(), run)
    first = evaluate(spec, RuleState(), run[:cut])
    window = timedelta(minutes=spec.window_minutes)
    rest = run[cut:]
    history = [s for s in run[:cut] if rest and s.at >= rest[0].at - window]
    second = evaluate(spec, first.state, rest, history)
    assert whole.state == second.state
    assert whole.changes == first.changes + second.changes


@settings(max_examples=50, deadline=None)
@given(n=st.integers(min_value=1, max_value=1000), high=st.floats(min_value=30, max_value=1e6))
def test_a_flood_of_high_readings_raises_once(n, high):
    out = evaluate(LEVEL, RuleState(), samples([high] * n, step=1))
    assert kinds(out) == ["raised"]
