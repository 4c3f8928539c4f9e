"""Coverage of a scenario: the share of residents within a 500 m and a 1,000 m walk of a usable
shelter on the scenario's network, and the buildings beyond 1,000 m (the gaps)."""

from typing import Any

from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.errors import Collector
from renxing.grid.models import GridUnit
from renxing.i18n import _
from renxing.space import coverage as shelter_coverage
from renxing.space.network import RoadGraph
from renxing.space.planning.access import community_of
from renxing.space.planning.inputs import Inputs, load_inputs, road_graph
from renxing.space.planning.spec import Spec, spec_or_raise, validate

COVERAGE_RADII = (500.0, 1000.0)


def coverage_of(inputs: Inputs) -> dict[str, Any]:
    """Share of the community's residents within 500 m and 1,000 m walk of a usable shelter, and the
    buildings beyond 1,000 m (the gaps), from ``space.coverage`` on the scenario's network."""
    located = [
        b for b in inputs.buildings if b["lon"] is not None and b["lat"] is not None and sum(b["persons"].values())
    ]
    points = [shelter_coverage.Point(b["id"], b["lon"], b["lat"], float(sum(b["persons"].values()))) for b in located]
    sites = [shelter_coverage.Point(s["id"], s["lon"], s["lat"]) for s in inputs.shelters if s["usable"]]
    graph = road_graph(inputs) if located and sites else RoadGraph.from_lines([])
    result = shelter_coverage.coverage(graph, points, sites, COVERAGE_RADII)
    out: dict[str, Any] = {
        str(int(r)): {
            "persons": int(result.covered[r]),
            "share": round(result.share[r], 4) if result.residents else None,
        }
        for r in result.thresholds
    }
    out["total"] = int(result.residents)
    rows = {row.id: row for row in result.buildings}
    names = {b["id"]: b["name"] for b in located}
    out["gaps"] = [
        {
            "building_id": bid,
            "name": names[bid],
            "persons": int(rows[bid].residents),
            "distance_m": rows[bid].distance_m,
        }
        for bid in result.gaps[result.thresholds[-1]]
    ]
    return out


def with_coverage(session: Session, community: GridUnit, spec: Spec, result: dict[str, Any]) -> dict[str, Any]:
    """The plan with its coverage added (once)."""
    if "coverage" not in result:
        result["coverage"] = coverage_of(load_inputs(session, community, spec))
    return result


def coverage(session: Session, actor: Principal, spec: Spec) -> dict[str, Any]:
    community = community_of(session, actor, spec.community_id)
    errors = Collector()
    validate(session, spec, errors)
    errors.raise_if_any(_("情景有误"))
    return {"community_id": community.id, **coverage_of(load_inputs(session, community, spec))}


def coverage_from(session: Session, actor: Principal, values: dict[str, Any]) -> dict[str, Any]:
    return coverage(session, actor, spec_or_raise(values))
