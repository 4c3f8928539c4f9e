"""Siting: the best ``k`` conversion candidates to open besides the open shelters, on the
scenario's network distances (capacitated p-median, ``space.siting``)."""

from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.errors import Collector
from renxing.i18n import _
from renxing.space import evacuation
from renxing.space.planning.access import community_of
from renxing.space.planning.inputs import load_inputs, road_graph
from renxing.space.planning.spec import Spec, spec_from, validate
from renxing.space.siting import network_costs, solve_pmedian

SITING_TIME_LIMIT_S = 15.0


def siting(session: Session, actor: Principal, community_id: int, k: int, spec: Spec | None = None) -> dict[str, Any]:
    """The best ``k`` conversion candidates to open besides the open shelters (capacitated p-median:
    each evacuating building goes whole to one shelter, capacities hold, Σ persons × metres minimal)."""
    community = community_of(session, actor, community_id, write=True)
    spec = spec or Spec(community_id=community.id)
    errors = Collector()
    validate(session, spec, errors)
    errors.raise_if_any(_("情景有误"))
    inputs = load_inputs(session, community, spec)
    usable_candidates = [s for s in inputs.shelters if s["candidate"] and s["reason"] in (None, "candidate")]
    fixed = [s for s in inputs.shelters if s["usable"] and s not in usable_candidates]
    if not usable_candidates:
        errors.add("k", _("没有可用的候选场所"), value=k)
    elif not 1 <= k <= len(usable_candidates):
        errors.add("k", _("应在 1 到 {len} 之间").format(len=len(usable_candidates)), value=k)
    errors.raise_if_any(_("选址参数有误"))
    points = [b for b in inputs.buildings if b["evacuate"] and b["lon"] is not None and b["lat"] is not None]
    sites = [s for s in fixed + usable_candidates if s["lon"] is not None and s["lat"] is not None]
    site_points = [(s["lon"], s["lat"]) for s in sites]
    graph = road_graph(inputs, site_points)
    cost = network_costs(graph, [(b["lon"], b["lat"]) for b in points], site_points)
    demand = np.array([sum(b["persons"].values()) for b in points], dtype=float)
    capacity = np.array([s["capacity"] for s in sites], dtype=float)
    finite = cost[np.isfinite(cost)]
    # Leaving a building without a place costs more than any walk: capacity first, then distance.
    penalty = 10.0 * (float(finite.max()) if finite.size else 1000.0) + 1000.0
    # A page must answer: past the limit HiGHS returns its best plan, marked not proven optimal.
    result = solve_pmedian(
        cost, demand, capacity, k, list(range(len(fixed))), unassigned_cost=penalty, time_limit=SITING_TIME_LIMIT_S
    )
    chosen = [sites[j] for j in result.open if j >= len(fixed)]
    assignment = result.assignment if result.assignment is not None else np.full(len(points), -1)
    unplaced = int(sum(demand[i] for i in range(len(points)) if assignment[i] < 0))
    served = float(sum(demand[i] * cost[i, assignment[i]] for i in range(len(points)) if assignment[i] >= 0))
    return {
        "community_id": community.id,
        "k": k,
        "status": result.status,
        "chosen": [{"id": s["id"], "name": s["name"], "capacity": s["capacity"]} for s in chosen],
        "objective_m": round(served, 1),
        "objective_s": round(served / evacuation.DEFAULT_SPEEDS["normal"], 1),
        "unplaced": unplaced,
        "persons": int(demand.sum()),
        "seconds": round(result.seconds, 3),
    }


def siting_from(session: Session, actor: Principal, values: dict[str, Any]) -> dict[str, Any]:
    errors = Collector()
    spec = spec_from(values, errors)
    raw_k = values.get("k")
    k = None
    try:
        k = int(raw_k)
    except (TypeError, ValueError):
        errors.add("k", _("应为整数"), value=raw_k)
    errors.raise_if_any(_("选址参数有误"))
    assert spec is not None and k is not None
    return siting(session, actor, spec.community_id, k, spec)
