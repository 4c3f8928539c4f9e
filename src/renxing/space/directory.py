"""Space records as other domains read them: shelters, saved evacuation scenarios and who a
scenario's plan sends to each shelter (counts only, no one's name).

No permission check here: the calling service has checked its own (the warehouse sizing the
demand of a community's scenario for a planner who may allocate there).
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.grid.models import GridUnit
from renxing.space.models import EvacScenario, Shelter
from renxing.space.planning.plan import plan_for_community
from renxing.space.planning.spec import spec_of


@dataclass(frozen=True)
class ShelterPlace:
    id: int
    name: str
    lon: float | None
    lat: float | None
    capacity: int
    status: str


@dataclass(frozen=True)
class ShelterLoad:
    """Evacuees a scenario's plan sends to one shelter, by mobility class."""

    shelter_id: int
    name: str
    lon: float | None
    lat: float | None
    capacity: int
    persons: int
    by_class: dict[str, int]


@dataclass(frozen=True)
class ScenarioLoad:
    scenario_id: int
    name: str
    community_id: int
    shelters: list[ShelterLoad]
    evacuees: int
    unplaced: int


def shelter(session: Session, shelter_id: int) -> ShelterPlace | None:
    s = session.get(Shelter, shelter_id)
    if s is None:
        return None
    return ShelterPlace(s.id, s.name, s.lon, s.lat, s.capacity, s.status)


def shelters_of(session: Session, community_id: int) -> list[ShelterPlace]:
    """The shelters of a community, by name."""
    rows = session.scalars(select(Shelter).where(Shelter.unit_id == community_id).order_by(Shelter.name, Shelter.id))
    return [ShelterPlace(s.id, s.name, s.lon, s.lat, s.capacity, s.status) for s in rows]


def scenarios_of(session: Session, community_id: int) -> list[tuple[int, str]]:
    """(id, name) of a community's saved evacuation scenarios."""
    rows = session.execute(
        select(EvacScenario.id, EvacScenario.name).where(EvacScenario.unit_id == community_id).order_by(EvacScenario.id)
    )
    return [(i, n) for i, n in rows]


def scenario_community(session: Session, scenario_id: int) -> int | None:
    return session.scalar(select(EvacScenario.unit_id).where(EvacScenario.id == scenario_id))


def scenario_load(session: Session, scenario_id: int) -> ScenarioLoad | None:
    """Who the scenario's evacuation plan places at each shelter (computed, or its cached plan)."""
    sc = session.get(EvacScenario, scenario_id)
    community = session.get(GridUnit, sc.unit_id) if sc is not None else None
    if sc is None or community is None:
        return None
    plan = plan_for_community(session, community, spec_of(sc), sc)
    places = {s.id: s for s in session.scalars(select(Shelter).where(Shelter.unit_id == community.id))}
    by_shelter: dict[int, dict[str, int]] = {}
    for b in plan["buildings"]:
        for r in b["routes"]:
            tally = by_shelter.setdefault(r["shelter_id"], {})
            for cls, n in r["by_class"].items():
                tally[cls] = tally.get(cls, 0) + n
    loads = []
    for sid, tally in sorted(by_shelter.items()):
        s = places.get(sid)
        if s is None:
            continue
        loads.append(ShelterLoad(s.id, s.name, s.lon, s.lat, s.capacity, sum(tally.values()), tally))
    totals = plan["totals"]
    return ScenarioLoad(sc.id, sc.name, community.id, loads, int(totals["placed"]), int(totals["unplaced"]))


def shelter_community(session: Session, shelter_id: int) -> int | None:
    """The community a shelter belongs to (None: no such shelter)."""
    return session.scalar(select(Shelter.unit_id).where(Shelter.id == shelter_id))
