"""Thinning a long series of readings for a chart. Pure: (moment, value) pairs in, fewer out.

A chart a few hundred pixels wide shows no more than a few hundred buckets, and an average would
hide the very peak that crossed a threshold. So each bucket keeps its lowest and its highest
reading, at their own moments and in time order: the line keeps every spike, at most two points
per bucket.
"""

from collections.abc import Sequence
from datetime import datetime

Point = tuple[datetime, float]


def thin(points: Sequence[Point], buckets: int) -> list[Point]:
    """``points`` in time order, reduced to each bucket's lowest and highest (equal buckets of
    time between the first and the last point); unchanged when already at most ``2 × buckets``."""
    if buckets < 1:
        raise ValueError("buckets must be at least 1")
    if len(points) <= 2 * buckets:
        return list(points)
    start, end = points[0][0], points[-1][0]
    span = (end - start).total_seconds() or 1.0
    out: list[Point] = []
    current = -1
    low = high = points[0]
    for p in points:
        index = min(buckets - 1, int((p[0] - start).total_seconds() / span * buckets))
        if index != current:
            if current >= 0:
                out.extend(_pair(low, high))
            current, low, high = index, p, p
            continue
        if p[1] < low[1]:
            low = p
        if p[1] > high[1]:
            high = p
    out.extend(_pair(low, high))
    return out


def _pair(low: Point, high: Point) -> list[Point]:
    if low is high:
        return [low]
    return [low, high] if low[0] <= high[0] else [high, low]
