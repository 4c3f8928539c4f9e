"""Emergency allocation runs: the supplies a saved evacuation scenario needs at each shelter, met
from stock at every point within what agreements allow, at least total distance; pick lists per
storage point; committing posts the transfers.

- Demand: the evacuees the scenario's plan sends to each shelter, by need group (see ``days.py``),
  × the catalogue's needs × the days asked for (daily needs) or once (blankets, tents).
- Supply: ``days.drawable`` — own points' usable stock (household kits excluded: families keep
  them), partners' as far as an agreement in force allows.
- Distance: great-circle metres between a point and a shelter's entrance; a point or shelter
  without coordinates cannot be paired (it is named in ``warnings``).
- The solver (``allocation.allocate``) meets as much as can be met, then least unit·metres, and
  returns its certificate of optimality, kept with the run.

A run is proposed first (nothing moves), then committed once: each flow becomes a transfer from
the point to the shelter's store (created on first use) with its lots chosen earliest-expiry first
at that moment; if stock changed since, the commit is refused whole and the run can be computed
again. A flow from a shelter's own store to that shelter moves nothing and posts nothing.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import Conflict, FieldError, Invalid, NotFound, ServiceError
from renxing.geo.sphere import haversine_m
from renxing.grid.scope import in_scope, sees
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.space import directory as space_directory
from renxing.space.riskmap.fonts import FontMissing
from renxing.supplies import allocation, autonomy, days, ledger, movements
from renxing.supplies.access import local_day, partner_orgs
from renxing.supplies.models import AllocationRun, PointKind, StoragePoint
from renxing.supplies.picklists import PickLine, PickList, PickSheet, pick_lists_pdf, pick_lists_xlsx

MAX_DAYS = 30


class RunStatus(StrEnum):
    proposed = "proposed"
    committed = "committed"
    discarded = "discarded"


RUNS = ListSpec(
    sorts={"created_at": AllocationRun.created_at, "status": AllocationRun.status},
    default_sort="-created_at",
    tiebreaker=AllocationRun.id,
    search=(AllocationRun.scenario_name,),
    filters={
        "status": Filter(AllocationRun.status, parse=lambda v: RunStatus(v).value),
        "community_id": Filter(AllocationRun.unit_id, parse=int),
    },
    scope=AllocationRun.path,
)


def _bad(field: str, message: str, value: object = None) -> Invalid:
    return Invalid(message, [FieldError(field, message, None, None if value is None else str(value))])


def _distances(points: list[StoragePoint], shelters: list[Any]) -> np.ndarray:
    d = np.full((len(points), len(shelters)), -1, dtype=np.int64)
    for i, p in enumerate(points):
        if p.lon is None or p.lat is None:
            continue
        for j, s in enumerate(shelters):
            if s.lon is not None and s.lat is not None:
                d[i, j] = round(haversine_m(p.lon, p.lat, s.lon, s.lat))
    return d


def propose(
    session: Session, actor: Principal, community_id: int, scenario_id: int, days_count: int = 3
) -> AllocationRun:
    """Compute an allocation for a scenario and keep it as a proposal."""
    community = days.community_for_planning(session, actor, community_id, Perm.supplies_allocate)
    if not isinstance(days_count, int) or not 1 <= days_count <= MAX_DAYS:
        raise _bad("days", _("天数应在 1 到 {n} 之间").format(n=MAX_DAYS), days_count)
    if not in_scope(actor, community):
        raise _bad("community_id", _("不在您的管理范围内"), community_id)
    load = days.scenario_load(session, community.id, scenario_id)
    today = local_day(utcnow())
    cat = days.catalogue(session)
    points = [p for p in days.points_of(session, community.id) if p.kind != PointKind.household_kits.value]
    stock, under = days.drawable(session, points, today)
    infants = days.infant_share(session, community, today)
    shelters = load.shelters
    items = sorted(cat.items)
    col = {item_id: k for k, item_id in enumerate(items)}
    demand = np.zeros((len(shelters), len(items)), dtype=np.int64)
    for j, s in enumerate(shelters):
        for item_id, q in autonomy.demand(cat.needs, days.evacuee_groups(s.by_class, infants), days_count).items():
            if item_id in col:
                demand[j, col[item_id]] = q
    supply = np.zeros((len(points), len(items)), dtype=np.int64)
    row = {p.id: i for i, p in enumerate(points)}
    for (pid, item_id), q in stock.items():
        if pid in row and item_id in col:
            supply[row[pid], col[item_id]] = q
    result = allocation.allocate(supply, demand, _distances(points, shelters))
    run = AllocationRun(
        unit_id=community.id,
        path=community.path,
        scenario_id=load.scenario_id,
        scenario_name=load.name,
        days=days_count,
        status="proposed",
        objective=int(result.objective),
        met=int(result.met),
        shortfall=int(result.shortfall.sum()),
        result=_result(points, shelters, items, cat, demand, result, under, load),
        created_by=actor.user_id,
    )
    session.add(run)
    session.flush()
    audit.record(
        session, actor, "create", "supply_allocation", run.id, after={"scenario": load.name, "days": days_count}
    )
    return run


def _result(points, shelters, items, cat, demand, result, under, load) -> dict[str, Any]:
    def item(k: int) -> dict[str, Any]:
        it = cat.items[items[k]]
        return {"id": it.id, "code": it.code, "name": it.name, "unit": it.unit}

    flows = [
        {
            "point_id": points[f.source].id,
            "point": points[f.source].name,
            "shelter_id": shelters[f.shelter].shelter_id,
            "shelter": shelters[f.shelter].name,
            "item": item(f.item),
            "quantity": f.quantity,
            "distance_m": f.distance_m,
            "agreement_id": under.get(points[f.source].id),
            "own_store": points[f.source].shelter_id == shelters[f.shelter].shelter_id,
        }
        for f in result.flows
    ]
    shortfalls = [
        {"shelter_id": shelters[j].shelter_id, "shelter": shelters[j].name, "item": item(k), "quantity": int(q)}
        for j, k in zip(*np.nonzero(result.shortfall), strict=True)
        for q in [result.shortfall[j, k]]
    ]
    unplaced = [p.name for p in points if p.lon is None or p.lat is None]
    unplaced += [s.name for s in shelters if s.lon is None or s.lat is None]
    return {
        "evacuees": load.evacuees,
        "unplaced_evacuees": load.unplaced,
        "shelters": [
            {
                "id": s.shelter_id,
                "name": s.name,
                "persons": s.persons,
                "demand": int(demand[j].sum()),
                "shortfall": int(result.shortfall[j].sum()),
            }
            for j, s in enumerate(shelters)
        ],
        "flows": flows,
        "shortfalls": shortfalls,
        "status": result.status,
        "certificate": _plain(result.certificate),
        "warnings": [_("无坐标，未参与调配：{name}").format(name=n) for n in unplaced],
    }


def _plain(value: Any) -> Any:
    """The certificate as JSON: numpy numbers and arrays made plain."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def load_run(session: Session, actor: Principal, run_id: int, *, write: bool = False) -> AllocationRun:
    actor.require(Perm.supplies_allocate if write else Perm.supplies_read)
    run = session.get(AllocationRun, run_id)
    visible = run is not None and partner_orgs(session, actor) is None and sees(actor, run.path)
    if not visible or (write and not in_scope(actor, run.path)):
        raise NotFound(_("调配方案 {run_id} 不存在").format(run_id=run_id))
    return run


def list_runs(session: Session, actor: Principal, query: ListQuery) -> Page[AllocationRun]:
    actor.require(Perm.supplies_read)
    stmt = select(AllocationRun)
    if partner_orgs(session, actor) is not None:
        stmt = stmt.where(AllocationRun.id.is_(None))
    return list_page(session, stmt, RUNS, query, actor=actor)


def _shelter_store(session: Session, actor: Principal, run: AllocationRun, shelter_id: int, name: str) -> int:
    store = session.scalar(
        select(StoragePoint.id)
        .where(StoragePoint.shelter_id == shelter_id, StoragePoint.kind == PointKind.shelter_store.value)
        .order_by(StoragePoint.id)
    )
    if store is not None:
        return store
    place = space_directory.shelter(session, shelter_id)
    point = StoragePoint(
        unit_id=run.unit_id,
        path=run.path,
        name=f"{name}物资库房",  # a proper name, like the shelter's own: stored as the community names it
        kind=PointKind.shelter_store.value,
        shelter_id=shelter_id,
        lon=place.lon if place else None,
        lat=place.lat if place else None,
        active=True,
    )
    session.add(point)
    session.flush()
    audit.record(session, actor, "create", "storage_point", point.id, after={"name": point.name, "run": run.id})
    return point.id


def commit(session: Session, actor: Principal, run_id: int, *, occurred_at: datetime | None = None) -> AllocationRun:
    """Post the run's transfers (in transit to each shelter's store). All or nothing."""
    run = load_run(session, actor, run_id, write=True)
    if run.status == RunStatus.committed.value:
        raise Conflict(_("调配方案已执行，不能再次执行"))
    if run.status == RunStatus.discarded.value:
        raise Conflict(_("调配方案已作废，不能执行"))
    posted = 0
    for f in run.result.get("flows", []):
        if f["own_store"]:
            continue
        to_point = _shelter_store(session, actor, run, f["shelter_id"], f["shelter"])
        movements.transfer(
            session,
            actor,
            f["point_id"],
            to_point,
            f["item"]["id"],
            f["quantity"],
            agreement_id=f.get("agreement_id"),
            occurred_at=occurred_at,
            run_id=run.id,
            note=_("调配方案 #{run_id}").format(run_id=run.id),
        )
        posted += 1
    run.status = "committed"
    run.committed_by = actor.user_id
    run.committed_at = utcnow()
    audit.record(
        session, actor, "update", "supply_allocation", run.id, after={"status": "committed", "transfers": posted}
    )
    return run


def discard(session: Session, actor: Principal, run_id: int) -> AllocationRun:
    run = load_run(session, actor, run_id, write=True)
    if run.status == RunStatus.committed.value:
        raise Conflict(_("调配方案已执行，不能作废"))
    if run.status == RunStatus.discarded.value:
        raise Conflict(_("调配方案已作废"))
    run.status = "discarded"
    audit.record(session, actor, "update", "supply_allocation", run.id, after={"status": "discarded"})
    return run


def pick_sheet(session: Session, actor: Principal, run_id: int) -> PickSheet:
    """The pick lists of a run, one per storage point: what to take (lots earliest-expiry first,
    as the commit will take them), how much, and where it goes."""
    run = load_run(session, actor, run_id)
    points = {p.id: p for p in session.scalars(select(StoragePoint).where(StoragePoint.unit_id == run.unit_id))}
    today = local_day(run.created_at)
    lists: dict[int, list[PickLine]] = {}
    taken: dict[tuple[int, int, str], int] = {}
    held: dict[tuple[int, int], list[ledger.Lot]] = {}
    for f in sorted(run.result.get("flows", []), key=lambda f: (f["point_id"], f["item"]["id"], f["shelter"])):
        if f["own_store"]:
            continue
        left = f["quantity"]
        key = (f["point_id"], f["item"]["id"])
        if key not in held:  # one read per point and item, however many shelters it sends to
            held[key] = ledger.lots(session, key[0], [key[1]])
        for lot in held[key]:
            if left == 0:
                break
            if lot.expiry is not None and lot.expiry < today:
                continue
            free = lot.quantity - taken.get((f["point_id"], lot.item_id, lot.lot), 0)
            q = min(free, left)
            if q <= 0:
                continue
            taken[(f["point_id"], lot.item_id, lot.lot)] = taken.get((f["point_id"], lot.item_id, lot.lot), 0) + q
            left -= q
            lists.setdefault(f["point_id"], []).append(
                PickLine(f["item"]["name"], f["item"]["unit"], lot.lot or None, lot.expiry, q, f["shelter"])
            )
        if left:
            lists.setdefault(f["point_id"], []).append(
                PickLine(f["item"]["name"], f["item"]["unit"], _("（库存已变动，缺）"), None, left, f["shelter"])
            )
    return PickSheet(
        title=_("应急物资调拨拣货单 — {scenario}").format(scenario=run.scenario_name),
        run_label=_("调配方案 #{run_id}，{days} 天").format(run_id=run.id, days=run.days),
        generated=utcnow().astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M"),
        lists=[
            PickList(
                point=points[pid].name if pid in points else str(pid),
                address=points[pid].address if pid in points else None,
                access_hours=points[pid].access_hours if pid in points else None,
                contact=_contact(points.get(pid)),
                lines=lines,
            )
            for pid, lines in sorted(lists.items(), key=lambda kv: points[kv[0]].name if kv[0] in points else "")
        ],
    )


def _contact(point: StoragePoint | None) -> str | None:
    if point is None or not (point.contact_name or point.contact_phone):
        return None
    return " ".join(x for x in (point.contact_name, point.contact_phone) if x)


class PrintUnavailable(ServiceError):
    """The pick lists cannot be drawn on this server (no CJK font)."""

    status = 503


def pick_lists_file(session: Session, actor: Principal, run_id: int, fmt: str) -> bytes:
    """The pick lists of a run as ``pdf`` or ``xlsx`` bytes."""
    sheet = pick_sheet(session, actor, run_id)
    if fmt == "xlsx":
        return pick_lists_xlsx(sheet)
    try:
        return pick_lists_pdf(sheet)
    except FontMissing as exc:
        raise PrintUnavailable(str(exc)) from exc
