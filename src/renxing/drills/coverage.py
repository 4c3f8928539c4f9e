"""Rolling coverage of drills and trainings over the grid tree. Pure: paths and counts in, arrays out.

The database hands over one compact row per building (residents, residents reached) and the target
paths of each activity; everything above a building is a sum over a range of sorted paths, because
a grid path ("/1/4/20/") sorts right before every path of its subtree.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

END = "\uffff"  # sorts after every character of a path: [p, p + END) is the subtree of p


class Standing(StrEnum):
    ok = "ok"  # at or above the reach target
    behind = "behind"  # below the target
    lagging = "lagging"  # well below it (under lag_ratio × target): the buildings to act on first
    empty = "empty"  # nobody lives there


@dataclass
class Coverage:
    """Per unit, in the order of the ``unit_paths`` given."""

    residents: np.ndarray
    reached: np.ndarray
    reach: np.ndarray  # reached ÷ residents, NaN where nobody lives
    needed: np.ndarray  # more residents to reach before the target is met (0 when met)
    activities: np.ndarray  # activities meant for the unit, a part of it or a unit around it
    standing: list[Standing]


def subtree_sums(unit_paths: Sequence[str], leaf_paths: Sequence[str], *values: Sequence[int]) -> list[np.ndarray]:
    """For each unit, the sum of each ``values`` column over the leaves in its subtree."""
    units = np.asarray(unit_paths, dtype=str)
    if len(leaf_paths) == 0:
        return [np.zeros(len(units), dtype=np.int64) for _ in values]
    leaves = np.asarray(leaf_paths, dtype=str)
    order = np.argsort(leaves, kind="stable")
    leaves = leaves[order]
    lo = np.searchsorted(leaves, units, side="left")
    hi = np.searchsorted(leaves, np.char.add(units, END), side="left")
    out = []
    for column in values:
        cum = np.concatenate([[0], np.cumsum(np.asarray(column, dtype=np.int64)[order])])
        out.append(cum[hi] - cum[lo])
    return out


def ancestors(path: str) -> list[str]:
    """ "/1/4/20/" → ["/1/", "/1/4/"] (strict ancestors, root first)."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


def outermost(paths: Sequence[str]) -> list[str]:
    """Drop the paths that lie inside another one of the list (a building inside a targeted area)."""
    out: list[str] = []
    for p in sorted(set(paths)):
        if not out or not p.startswith(out[-1]):
            out.append(p)
    return out


def activity_counts(unit_paths: Sequence[str], activity_targets: Sequence[Sequence[str]]) -> np.ndarray:
    """How many activities concern each unit: those aimed at it, at a unit above it (the whole
    community), or at a part of it (one of its buildings). Each activity counts once per unit."""
    units = np.asarray(unit_paths, dtype=str)
    n = len(units)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(units, kind="stable")
    sorted_units = units[order]
    diff = np.zeros(n + 1, dtype=np.int64)
    above: Counter[str] = Counter()
    starts: list[str] = []
    for targets in activity_targets:
        tops = outermost(targets)
        starts.extend(tops)
        # Units above a target, each once per activity even when two targets share them.
        above.update({a for t in tops for a in ancestors(t)})
    if starts:
        arr = np.asarray(starts, dtype=str)
        lo = np.searchsorted(sorted_units, arr, side="left")
        hi = np.searchsorted(sorted_units, np.char.add(arr, END), side="left")
        np.add.at(diff, lo, 1)
        np.add.at(diff, hi, -1)
    inside = np.cumsum(diff[:-1])  # units in a target's subtree (targets of one activity are disjoint)
    counts = np.empty(n, dtype=np.int64)
    counts[order] = inside
    if above:
        position = {p: i for i, p in enumerate(unit_paths)}
        for p, k in above.items():
            i = position.get(p)
            if i is not None:
                counts[i] += k
    return counts


def coverage(
    unit_paths: Sequence[str],
    leaf_paths: Sequence[str],
    leaf_residents: Sequence[int],
    leaf_reached: Sequence[int],
    activity_targets: Sequence[Sequence[str]],
    *,
    reach_target: float,
    lag_ratio: float,
) -> Coverage:
    """Residents, reached share, shortfall, activities and standing of every unit."""
    residents, reached = subtree_sums(unit_paths, leaf_paths, leaf_residents, leaf_reached)
    with np.errstate(invalid="ignore", divide="ignore"):
        reach = np.where(residents > 0, reached / np.maximum(residents, 1), np.nan)
    # A small epsilon so that 90 % of 10 residents needs 9, not 10 from a rounding error.
    needed = np.maximum(np.ceil(reach_target * residents - 1e-9).astype(np.int64) - reached, 0)
    standing = [
        Standing.empty
        if r == 0
        else Standing.ok
        if share >= reach_target - 1e-12
        else Standing.lagging
        if share < reach_target * lag_ratio
        else Standing.behind
        for r, share in zip(residents.tolist(), reach.tolist(), strict=True)
    ]
    return Coverage(
        residents=residents,
        reached=reached,
        reach=reach,
        needed=needed,
        activities=activity_counts(unit_paths, activity_targets),
        standing=standing,
    )
