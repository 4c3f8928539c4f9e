"""Days of autonomy and demand from per-person needs. Pure: stock, needs and head counts in, figures out.

A need says how much of an item one person of a group uses, each day (water, food) or once (a blanket,
a place in a tent). The groups overlap: ``everyone`` is the whole population, the others are the
residents among them with special needs (counted by the caller), so a need for the bedridden adds to
the need for everyone. Several needs may name one item; they add up.

Days of autonomy: for each item with a daily need, stock ÷ what the population uses of it a day; the
community (area, shelter) is supplied for as long as the item that runs out first lasts.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

# Reference needs for the item catalogue, which stores its own (configurable) figures.
# Sphere Handbook (2018), WASH chapter, water supply standard 2.1: at least 15 litres per person per
# day for drinking and domestic hygiene; of it 2.5–3 litres to drink and for food (survival needs,
# appendix on minimum water quantities).
WATER_ALL_USES_L = 15.0
WATER_DRINKING_L = (2.5, 3.0)

# Products of floats such as 300 × 0.1 × 3 come out a hair above the whole number they mean.
_EPS = 1e-9


class Group(StrEnum):
    """Who a need applies to."""

    everyone = "everyone"
    vulnerable = "vulnerable"  # aged 80+, disabled, chronic illness, pregnant … (counted by the caller)
    bedridden = "bedridden"
    infants = "infants"  # under 3


@dataclass(frozen=True)
class Need:
    item_id: int
    quantity: float  # per person (per day when daily), in the item's unit
    daily: bool  # True: consumed each day (water, food); False: once per person (blanket, tent place)
    group: Group = Group.everyone


@dataclass(frozen=True)
class ItemDays:
    item_id: int
    stock: int
    daily_need: float  # units per day for this population (0 when no one in its group)
    days: float | None  # stock / daily_need; None when daily_need == 0 (not limiting)


@dataclass(frozen=True)
class Autonomy:
    days: float | None  # min over items (None: nothing limits, or no daily needs)
    binding_item_id: int | None  # the item that runs out first (ties: lowest days then lowest id)
    items: list[ItemDays]  # every daily need, sorted by days ascending (None last), then item id


def _check(needs: Sequence[Need], population: Mapping[Group, int]) -> None:
    for need in needs:
        if need.quantity < 0 or not math.isfinite(need.quantity):
            raise ValueError(f"need of item {need.item_id}: quantity must be a finite number ≥ 0")
    for group, count in population.items():
        if count < 0:
            raise ValueError(f"population of group {group}: must be ≥ 0")


def _totals(needs: Sequence[Need], population: Mapping[Group, int], *, daily: bool) -> dict[int, float]:
    """Per item, what its population needs (per day, or once): every item named, even at 0."""
    _check(needs, population)
    totals: dict[int, float] = {}
    for need in needs:
        if need.daily is daily:
            totals[need.item_id] = totals.get(need.item_id, 0.0) + population.get(need.group, 0) * need.quantity
    return totals


def _ceil(value: float) -> int:
    return math.ceil(value - _EPS * max(1.0, abs(value)))


def _on_shelf(stock: Mapping[int, int], item_id: int) -> int:
    # A ledger overdrawn by a correction still has nothing to give.
    return max(0, stock.get(item_id, 0))


def days_of_autonomy(stock: Mapping[int, int], needs: Sequence[Need], population: Mapping[Group, int]) -> Autonomy:
    """How many days the stock keeps the population supplied, item by item, and which item binds.

    An item with a daily need and no stock lasts 0 days; an item whose group is empty does not limit.
    Needs given once per person are not counted here (see :func:`coverage`).
    """
    items = []
    for item_id, need in _totals(needs, population, daily=True).items():
        on_shelf = _on_shelf(stock, item_id)
        items.append(ItemDays(item_id, on_shelf, need, on_shelf / need if need > 0 else None))
    items.sort(key=lambda i: (i.days is None, i.days or 0.0, i.item_id))
    binding = items[0] if items and items[0].days is not None else None
    return Autonomy(
        days=binding.days if binding else None, binding_item_id=binding.item_id if binding else None, items=items
    )


def coverage(
    stock: Mapping[int, int], needs: Sequence[Need], population: Mapping[Group, int]
) -> list[tuple[int, int, int]]:
    """Items needed once per person: (item_id, needed, stock), by item id; needed rounds up."""
    totals = _totals(needs, population, daily=False)
    return [(item_id, _ceil(totals[item_id]), _on_shelf(stock, item_id)) for item_id in sorted(totals)]


def demand(needs: Sequence[Need], population: Mapping[Group, int], days: int) -> dict[int, int]:
    """What a population needs for ``days`` days, per item: daily needs × days, one-off needs once.

    Each item's total rounds up to whole units (half a bottle is bought as one); items needing
    nothing are left out.
    """
    if days < 0:
        raise ValueError("days must be ≥ 0")
    totals = _totals(needs, population, daily=False)
    for item_id, per_day in _totals(needs, population, daily=True).items():
        totals[item_id] = totals.get(item_id, 0.0) + per_day * days
    rounded = {item_id: _ceil(total) for item_id, total in sorted(totals.items())}
    return {item_id: units for item_id, units in rounded.items() if units > 0}
