"""Days of autonomy: how long the stock a community can use keeps its people supplied, item by
item, and which item runs out first — for the community, each of its areas, and the evacuees of a
saved evacuation scenario at each shelter.

What counts as stock, and why:
- the community's store, its shelters' stores and the households' kits, lots not yet expired;
- a partner's stock only as far as an agreement in force lets the community draw it: the agreed
  share of the usable stock at the partner's points, capped by the quantity the agreement commits
  (``drawable``; allocation uses the same figures);
- for evacuees, not the households' kits (they stay in the evacuated buildings, or are already
  counted on the people who carried them).

Evacuees by group come from the scenario's plan (counts by mobility class): ``bedridden`` is
exact; ``vulnerable`` is everyone not walking unaided (slow, aided, wheelchair, bedridden);
``infants`` is the community's share of infants applied to each shelter's evacuees.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import FieldError, Forbidden, Invalid
from renxing.grid import directory as grid_directory
from renxing.grid.models import GridUnit
from renxing.grid.scope import community_in_scope
from renxing.i18n import _
from renxing.people import directory as people_directory
from renxing.space import directory as space_directory
from renxing.supplies import autonomy
from renxing.supplies.access import local_day, partner_orgs
from renxing.supplies.autonomy import Group, Need
from renxing.supplies.drawing import agreements_in_force
from renxing.supplies.models import AgreementLine, Balance, ItemNeed, PointKind, StoragePoint, SupplyItem

Stock = dict[tuple[int, int], int]  # (point id, item id) → units


@dataclass(frozen=True)
class Catalogue:
    items: dict[int, SupplyItem]
    needs: list[Need]


def catalogue(session: Session) -> Catalogue:
    items = {i.id: i for i in session.scalars(select(SupplyItem).where(SupplyItem.active.is_(True)))}
    needs = [
        Need(n.item_id, n.quantity, n.daily, Group(n.group))
        for n in session.scalars(select(ItemNeed).order_by(ItemNeed.id))
        if n.item_id in items and n.group in Group.__members__
    ]
    return Catalogue(items, needs)


def community_for_planning(session: Session, actor: Principal, community_id: int, perm: Perm) -> GridUnit:
    """A community the actor may plan supplies for. Partners see their own stock, never the
    community's totals, so planning is refused to them."""
    actor.require(perm)
    if partner_orgs(session, actor) is not None:
        raise Forbidden(_("合作单位只能查看本单位的物资"))
    return community_in_scope(session, actor, community_id, field="community_id")


def points_of(session: Session, community_id: int) -> list[StoragePoint]:
    stmt = select(StoragePoint).where(StoragePoint.unit_id == community_id, StoragePoint.active.is_(True))
    return list(session.scalars(stmt.order_by(StoragePoint.id)))


def usable(session: Session, point_ids: list[int], today: date) -> Stock:
    """Units of each item at each point in lots not expired on ``today``."""
    if not point_ids:
        return {}
    rows = session.execute(
        select(Balance.point_id, Balance.item_id, func.sum(Balance.quantity))
        .where(
            Balance.point_id.in_(point_ids),
            Balance.quantity > 0,
            (Balance.expiry.is_(None)) | (Balance.expiry >= today),
        )
        .group_by(Balance.point_id, Balance.item_id)
    )
    return {(p, i): int(q) for p, i, q in rows}


def drawable(session: Session, points: list[StoragePoint], today: date) -> tuple[Stock, dict[int, int]]:
    """What the community may use at each point: all of its own points' usable stock, and at a
    partner's points what agreements in force allow. Also returns the agreement each partner
    point is drawn under."""
    stock = usable(session, [p.id for p in points], today)
    own = {p.id for p in points if p.org_id is None}
    out: Stock = {k: q for k, q in stock.items() if k[0] in own}
    under: dict[int, int] = {}
    by_org: dict[int, list[StoragePoint]] = defaultdict(list)
    for p in points:
        if p.org_id is not None:
            by_org[p.org_id].append(p)
    for org_id, org_points in by_org.items():
        for agreement in agreements_in_force(session, org_id, today):
            lines = session.scalars(select(AgreementLine).where(AgreementLine.agreement_id == agreement.id))
            for line in lines:
                left = line.quantity
                for p in org_points:
                    if line.point_id is not None and line.point_id != p.id:
                        continue
                    share = int(stock.get((p.id, line.item_id), 0) * agreement.draw_share)
                    take = min(share - out.get((p.id, line.item_id), 0), left)
                    if take > 0:
                        out[(p.id, line.item_id)] = out.get((p.id, line.item_id), 0) + take
                        under.setdefault(p.id, agreement.id)
                        left -= take
    return out, under


def _by_item(stock: Stock, point_ids: set[int] | None = None) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for (p, i), q in stock.items():
        if point_ids is None or p in point_ids:
            totals[i] += q
    return dict(totals)


def _present(result: autonomy.Autonomy, cat: Catalogue) -> dict[str, Any]:
    def item(i: int | None) -> dict[str, Any] | None:
        if i is None or i not in cat.items:
            return None
        it = cat.items[i]
        return {"id": it.id, "code": it.code, "name": it.name, "unit": it.unit}

    return {
        "days": None if result.days is None else round(result.days, 2),
        "binding_item": item(result.binding_item_id),
        "items": [
            {
                "item": item(d.item_id),
                "stock": d.stock,
                "daily_need": round(d.daily_need, 2),
                "days": None if d.days is None else round(d.days, 2),
            }
            for d in result.items
        ],
    }


def _groups(counts: dict[str, int]) -> dict[Group, int]:
    return {Group(k): v for k, v in counts.items() if k in Group.__members__}


def evacuee_groups(by_class: dict[str, int], infant_share: float) -> dict[Group, int]:
    persons = sum(by_class.values())
    return {
        Group.everyone: persons,
        Group.vulnerable: persons - by_class.get("normal", 0),
        Group.bedridden: by_class.get("bedridden", 0),
        Group.infants: round(persons * infant_share),
    }


def infant_share(session: Session, community: GridUnit, today: date) -> float:
    """The share of infants among the community's residents (applied to evacuees)."""
    counts = people_directory.need_groups(session, [community.path], today)[community.path]
    return counts["infants"] / max(1, counts["everyone"])


def autonomy_of(
    session: Session, actor: Principal, community_id: int, scenario_id: int | None = None
) -> dict[str, Any]:
    """Days of autonomy of a community, its areas, and (with a scenario) its shelters' evacuees."""
    community = community_for_planning(session, actor, community_id, Perm.supplies_read)
    today = local_day(utcnow())
    cat = catalogue(session)
    points = points_of(session, community.id)
    stock, _under = drawable(session, points, today)
    areas = grid_directory.units_under(session, community.path, "area")
    groups = people_directory.need_groups(session, [community.path, *[a.path for a in areas]], today)
    population = _groups(groups[community.path])
    whole = autonomy.days_of_autonomy(_by_item(stock), cat.needs, population)
    area_rows = []
    for a in areas:
        inside = {p.id for p in points if p.path.startswith(a.path)}
        result = autonomy.days_of_autonomy(_by_item(stock, inside), cat.needs, _groups(groups[a.path]))
        area_rows.append(
            {"id": a.id, "name": a.name, "population": groups[a.path]["everyone"], **_present(result, cat)}
        )
    out: dict[str, Any] = {
        "community": {"id": community.id, "name": community.name},
        "today": today.isoformat(),
        "population": {g.value: n for g, n in population.items()},
        "autonomy": _present(whole, cat),
        "coverage": [
            {"item": cat.items[i].name, "unit": cat.items[i].unit, "needed": need, "stock": have}
            for i, need, have in autonomy.coverage(_by_item(stock), cat.needs, population)
            if i in cat.items
        ],
        "areas": area_rows,
        "scenarios": [{"id": i, "name": n} for i, n in space_directory.scenarios_of(session, community.id)],
        "scenario": None,
    }
    if scenario_id is not None:
        infant_share = population.get(Group.infants, 0) / max(1, population.get(Group.everyone, 0))
        out["scenario"] = _scenario_autonomy(session, community.id, scenario_id, points, stock, cat, infant_share)
    return out


def scenario_load(session: Session, community_id: int, scenario_id: int) -> space_directory.ScenarioLoad:
    if space_directory.scenario_community(session, scenario_id) != community_id:
        why = _("该社区没有这个疏散情景")
        raise Invalid(why, [FieldError("scenario_id", why, None, str(scenario_id))])
    load = space_directory.scenario_load(session, scenario_id)
    assert load is not None  # the scenario exists: its community was just read
    return load


def _scenario_autonomy(
    session: Session,
    community_id: int,
    scenario_id: int,
    points: list[StoragePoint],
    stock: Stock,
    cat: Catalogue,
    infant_share: float,
) -> dict[str, Any]:
    load = scenario_load(session, community_id, scenario_id)
    movable = {p.id for p in points if p.kind != PointKind.household_kits.value}
    by_class: dict[str, int] = defaultdict(int)
    shelters = []
    for s in load.shelters:
        for k, v in s.by_class.items():
            by_class[k] += v
        own = {p.id for p in points if p.shelter_id == s.shelter_id}
        result = autonomy.days_of_autonomy(_by_item(stock, own), cat.needs, evacuee_groups(s.by_class, infant_share))
        shelters.append(
            {
                "id": s.shelter_id,
                "name": s.name,
                "persons": s.persons,
                "capacity": s.capacity,
                "store_points": len(own),
                **_present(result, cat),
            }
        )
    evacuees = evacuee_groups(dict(by_class), infant_share)
    whole = autonomy.days_of_autonomy(_by_item(stock, movable), cat.needs, evacuees)
    return {
        "id": load.scenario_id,
        "name": load.name,
        "evacuees": load.evacuees,
        "unplaced": load.unplaced,
        "groups": {g.value: n for g, n in evacuees.items()},
        "autonomy": _present(whole, cat),
        "shelters": shelters,
    }
