"""What the cloud warehouse's pages show: the autonomy dashboard and the allocation runs, built
from the services (``days``, ``allocating``); the stock pages' contexts are in ``views_stock.py``.

Figures are shaped here so templates only print them: days rounded down (a page never promises
a day the stock does not hold), a chart's data as plain lists, a run's flows with the map's
coordinates."""

import math
from typing import Any

from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.grid.models import GridUnit
from renxing.grid.scope import communities_in_scope, in_scope
from renxing.i18n import _, _l
from renxing.listing import ListQuery
from renxing.space import directory as space_directory
from renxing.supplies import agreements, allocating, days
from renxing.supplies.access import partner_orgs
from renxing.supplies.models import POINT_KIND_LABELS, AllocationRun, StoragePoint

POPULATION_LABELS = {
    "everyone": _l("全部居民"),
    "vulnerable": _l("特殊需要人群"),
    "bedridden": _l("卧床居民"),
    "infants": _l("婴幼儿"),
}
RUN_STATUS_LABELS = {
    "proposed": _l("待执行"),
    "committed": _l("已执行"),
    "discarded": _l("已作废"),
}
RUNS_PAGE = 20
AGREEMENTS_PAGE = 20
DEFAULT_DAYS = 3


def is_partner(session: Session, actor: Principal) -> bool:
    """Partners see their own stock only: no community totals, no allocation runs."""
    return partner_orgs(session, actor) is not None


def days_text(value: float | None) -> str:
    """Days of autonomy for reading: rounded down to a tenth (whole days from 100 on)."""
    if value is None:
        return "—"
    if value >= 100:
        return str(math.floor(value))
    return f"{math.floor(value * 10) / 10:.1f}".removesuffix(".0")


def labels() -> dict[str, Any]:
    return {
        "POPULATION_LABELS": POPULATION_LABELS,
        "RUN_STATUS_LABELS": RUN_STATUS_LABELS,
        "POINT_KIND_LABELS": POINT_KIND_LABELS,
        "days_text": days_text,
        "km": lambda metres: "—" if metres is None else f"{metres / 1000:.2f}",
    }


def planning_communities(session: Session, actor: Principal) -> list[GridUnit]:
    return communities_in_scope(session, actor)


def _chosen(communities: list[GridUnit], community_id: int | None) -> GridUnit | None:
    if community_id is not None:
        return next((c for c in communities if c.id == community_id), None)
    return communities[0] if communities else None


# ---- the autonomy dashboard --------------------------------------------------------------------


def days_chart(autonomy: dict[str, Any]) -> dict[str, Any]:
    """Days per item for the bar chart, the binding item first and marked. Bars longer than a few
    times the binding item's are cut at the axis (their labels keep the true figure), so the items
    that matter stay readable."""
    rows = [r for r in autonomy["items"] if r["days"] is not None and r["item"] is not None]
    binding = autonomy["binding_item"]["id"] if autonomy["binding_item"] else None
    least = min((r["days"] for r in rows), default=0)
    cap = max(7.0, math.ceil(least * 4)) if rows else 7.0
    return {
        "names": [r["item"]["name"] for r in rows],
        "days": [r["days"] for r in rows],
        "labels": [days_text(r["days"]) for r in rows],
        "binding": [r["item"]["id"] == binding for r in rows],
        "cap": cap if any(r["days"] > cap for r in rows) else None,
    }


def _scenario_choice(scenarios: list[dict[str, Any]], scenario: str | None) -> int | None:
    """No parameter: the community's first scenario; a blank choice: none."""
    if scenario is None:
        return scenarios[0]["id"] if scenarios else None
    ids = {s["id"] for s in scenarios}
    return int(scenario) if scenario.isdigit() and int(scenario) in ids else None


def dashboard_context(
    session: Session, actor: Principal, community_id: int | None, scenario: str | None
) -> dict[str, Any]:
    """Days of autonomy of a community (default: the first in scope), its areas and, for one of its
    evacuation scenarios, its shelters' evacuees."""
    actor.require(Perm.supplies_read)
    communities = planning_communities(session, actor)
    community = _chosen(communities, community_id)
    ctx: dict[str, Any] = {**labels(), "communities": communities, "community": community, "data": None}
    if community is None:
        if community_id is not None:
            days.autonomy_of(session, actor, community_id)  # names why: not a community, or not in scope
        return ctx
    data = days.autonomy_of(session, actor, community.id)
    scenario_id = _scenario_choice(data["scenarios"], scenario)
    if scenario_id is not None:
        data = days.autonomy_of(session, actor, community.id, scenario_id)
    ctx.update(
        data=data,
        scenario_id=scenario_id,
        chart=days_chart(data["autonomy"]),
        scenario_chart=days_chart(data["scenario"]["autonomy"]) if data["scenario"] else None,
        can_allocate=actor.can(Perm.supplies_allocate) and in_scope(actor, community),
    )
    return ctx


# ---- allocation runs ---------------------------------------------------------------------------


def scenarios_of(session: Session, community: GridUnit | None) -> list[tuple[int, str]]:
    return space_directory.scenarios_of(session, community.id) if community else []


def runs_context(
    session: Session,
    actor: Principal,
    query: ListQuery,
    form: dict[str, Any],
    errors: list | None = None,
) -> dict[str, Any]:
    """One page of runs and the form of a new one (the chosen community's scenarios)."""
    actor.require(Perm.supplies_read)
    page = allocating.list_runs(session, actor, query)
    communities = planning_communities(session, actor)
    names = {c.id: c.name for c in communities}
    can = actor.can(Perm.supplies_allocate) and not is_partner(session, actor)
    own = [c for c in communities if in_scope(actor, c)] if can else []
    community = _chosen(own, form.get("community_id"))
    return {
        **labels(),
        "page": page,
        "community_names": names,
        "params": {**query.filters, "q": query.q},
        "can_allocate": can and bool(own),
        "form_communities": own,
        "form_community": community,
        "scenarios": scenarios_of(session, community),
        "form": {"days": DEFAULT_DAYS, **{k: v for k, v in form.items() if v is not None}},
        "errors": {e.field: e.message for e in errors or []},
        "error_list": errors or [],
        "max_days": allocating.MAX_DAYS,
    }


def _places(session: Session, run: AllocationRun) -> dict[str, dict[int, dict[str, Any]]]:
    """Where the run's points and shelters are, for the map."""
    flows = run.result.get("flows", [])
    points: dict[int, dict[str, Any]] = {}
    for pid in sorted({f["point_id"] for f in flows}):
        p = session.get(StoragePoint, pid)
        if p is not None and p.lon is not None and p.lat is not None:
            points[pid] = {"name": p.name, "kind": p.kind, "lon": p.lon, "lat": p.lat}
    shelters: dict[int, dict[str, Any]] = {}
    for sh in run.result.get("shelters", []):
        place = space_directory.shelter(session, sh["id"])
        if place is not None and place.lon is not None and place.lat is not None:
            shelters[sh["id"]] = {"name": place.name, "lon": place.lon, "lat": place.lat}
    return {"points": points, "shelters": shelters}


def run_map(session: Session, run: AllocationRun) -> dict[str, Any]:
    """Points, shelters and one line per point → shelter (all items summed), for Leaflet."""
    places = _places(session, run)
    lines: dict[tuple[int, int], int] = {}
    for f in run.result.get("flows", []):
        if f["own_store"]:
            continue
        key = (f["point_id"], f["shelter_id"])
        lines[key] = lines.get(key, 0) + f["quantity"]
    return {
        "points": [{"id": k, **v} for k, v in places["points"].items()],
        "shelters": [{"id": k, **v} for k, v in places["shelters"].items()],
        "lines": [
            {"from": p, "to": s, "quantity": q}
            for (p, s), q in sorted(lines.items())
            if p in places["points"] and s in places["shelters"]
        ],
        "t": {"point": _("储备点"), "shelter": _("避难场所"), "units": _("件")},
    }


def certificate_summary(result: dict[str, Any]) -> dict[str, Any] | None:
    """What the solver's certificate proves, in a line: primal = dual per item, no violation."""
    cert = result.get("certificate") or {}
    if not cert:
        return None
    primal, dual = cert.get("primal") or [], cert.get("dual") or []
    return {
        "method": cert.get("method", ""),
        "primal": sum(primal),
        "dual": sum(dual),
        "equal": primal == dual,
        "violation": cert.get("max_negative_reduced_cost"),
    }


def run_context(session: Session, actor: Principal, run_id: int) -> dict[str, Any]:
    run = allocating.load_run(session, actor, run_id)
    result = run.result or {}
    community = session.get(GridUnit, run.unit_id)
    flows = sorted(result.get("flows", []), key=lambda f: (f["point"], f["shelter"], f["item"]["code"]))
    return {
        **labels(),
        "run": run,
        "result": result,
        "flows": flows,
        "shortfalls": sorted(result.get("shortfalls", []), key=lambda r: (r["shelter"], r["item"]["code"])),
        "certificate": certificate_summary(result),
        "map": run_map(session, run),
        "can_act": run.status == "proposed" and actor.can(Perm.supplies_allocate) and in_scope(actor, run.path),
        "community_name": community.name if community else "",
    }


# ---- agreements --------------------------------------------------------------------------------


def agreements_context(session: Session, actor: Principal, query: ListQuery) -> dict[str, Any]:
    """One page of agreements with their status (in force, expiring within 30 days, expired,
    terminated) and whether the renewal reminder went out."""
    page = agreements.list_agreements(session, actor, query)
    return {
        **labels(),
        "page": page,
        "rows": agreements.present_rows(session, page.items),
        "params": {**query.filters, "q": query.q},
        "STATUS_LABELS": agreements.STATUS_LABELS,
        "DRAW_WHEN_LABELS": agreements.DRAW_WHEN_LABELS,
        "expiring_days": agreements.EXPIRING_DAYS,
    }


def agreement_context(session: Session, actor: Principal, agreement_id: int) -> dict[str, Any]:
    a = agreements.get_agreement(session, actor, agreement_id)
    return {
        **labels(),
        "a": agreements.present(session, a),
        "STATUS_LABELS": agreements.STATUS_LABELS,
        "DRAW_WHEN_LABELS": agreements.DRAW_WHEN_LABELS,
        "expiring_days": agreements.EXPIRING_DAYS,
    }
