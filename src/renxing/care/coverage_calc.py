"""Care coverage and overlap per area and building (关怀覆盖与重复). Pure: no database, no web.

Definitions (the coverage map and tables show exactly these):

* **vulnerable by kind** — residents passed in, counted once per kind they have (a resident who is
  both ``elderly_alone`` and ``disabled`` counts under each kind, once in ``vulnerable``).
* **covered** — a resident with at least one care link (any carer, any service kind);
  ``share`` = covered / vulnerable, per kind as well; None where there is nobody to cover.
* **carers' load** — per carer: ``assigned`` = distinct residents in *all* links given (also those
  outside the residents passed in, since that is the carer's real duty) over ``max_care``; per area
  and building: the sums over the carers whose home is there (carers with no home place count in
  the total only). ``over_limit``: assigned > max_care.
* **provider** — the team a link belongs to; a carer outside any team (a neighbour, a grid worker)
  is a provider of their own.
* **over-served resident** — a resident who receives the same service kind from two or more
  different providers (e.g. two teams both doing home visits): effort that could go to someone else.
* **over-served building** — a building where two or more different *teams* give the same service
  kind (to the same or different residents): overlapping teams in one place. Each such row carries
  ``uncovered_in_area``, the vulnerable residents of the same area nobody cares for, so surplus next
  to a gap (满溢和空白并存) is visible at a glance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

Id = Hashable


@dataclass(frozen=True, slots=True)
class CareRecipient:
    """A vulnerable resident: where they live and their kinds of vulnerability."""

    id: Id
    building_id: Id | None
    area_id: Id | None
    kinds: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CareLink:
    """A carer giving one kind of service (``visit``, ``medical``, ``meals``…) to a resident."""

    resident_id: Id
    carer_id: Id
    team_id: Id | None = None
    service_kind: str = "visit"


@dataclass(frozen=True, slots=True)
class CarerInfo:
    """A carer's limit and home place (for per-unit load)."""

    carer_id: Id
    max_care: int
    building_id: Id | None = None
    area_id: Id | None = None
    team_id: Id | None = None


@dataclass(slots=True)
class UnitCoverage:
    unit_id: Id | None  # None for the total
    level: str  # "area", "building" or "total"
    area_id: Id | None = None  # a building's area
    vulnerable: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    covered: int = 0
    covered_by_kind: dict[str, int] = field(default_factory=dict)
    uncovered: list[Id] = field(default_factory=list)
    over_served_residents: int = 0
    carers: int = 0
    assigned: int = 0
    max_care: int = 0

    @property
    def share(self) -> float | None:
        return self.covered / self.vulnerable if self.vulnerable else None

    @property
    def share_by_kind(self) -> dict[str, float]:
        return {k: self.covered_by_kind.get(k, 0) / n for k, n in self.by_kind.items() if n}

    @property
    def load(self) -> float | None:
        return self.assigned / self.max_care if self.max_care else None


@dataclass(frozen=True, slots=True)
class OverServed:
    """A resident or building where several providers give the same service kind (see module doc)."""

    level: str  # "resident" or "building"
    id: Id
    service_kind: str
    providers: tuple  # team ids, or ("carer", id) for a carer outside any team
    residents: int  # residents receiving this service kind there (1 for a resident)
    area_id: Id | None
    uncovered_in_area: int


@dataclass(frozen=True, slots=True)
class CarerLoad:
    carer_id: Id
    team_id: Id | None
    assigned: int
    max_care: int | None  # None when the carer's limit is unknown

    @property
    def load(self) -> float | None:
        return self.assigned / self.max_care if self.max_care else None

    @property
    def over_limit(self) -> bool:
        return self.max_care is not None and self.assigned > self.max_care


@dataclass(slots=True)
class CoverageReport:
    total: UnitCoverage
    areas: dict[Id, UnitCoverage]
    buildings: dict[Id, UnitCoverage]
    uncovered: list[Id]  # in the order the residents were given
    over_served: list[OverServed]  # residents first, then buildings
    carers: list[CarerLoad]  # most loaded first


def _provider(link: CareLink) -> tuple:
    return ("team", link.team_id) if link.team_id is not None else ("carer", link.carer_id)


def _shown(provider: tuple) -> Id:
    return provider[1] if provider[0] == "team" else provider


def coverage(
    residents: Iterable[CareRecipient],
    links: Iterable[CareLink],
    carers: Iterable[CarerInfo] = (),
    *,
    min_providers: int = 2,
) -> CoverageReport:
    """Coverage, load and overlap per area, per building and in total (definitions in the module doc).

    ``min_providers``: how many different providers of one service kind make an overlap (default 2).
    """
    links = list(links)
    by_res: dict[Id, list[CareLink]] = defaultdict(list)
    for ln in links:
        by_res[ln.resident_id].append(ln)
    tally = _Tally()
    for r in residents:
        tally.count_resident(r, by_res.get(r.id, []), min_providers)
    loads = tally.count_carers(links, {c.carer_id: c for c in carers})
    return CoverageReport(
        tally.total, tally.areas, tally.buildings, tally.uncovered, tally.over_served(min_providers), loads
    )


@dataclass
class _Tally:
    """The running counts of :func:`coverage`: per unit, and the overlaps seen so far."""

    total: UnitCoverage = field(default_factory=lambda: UnitCoverage(None, "total"))
    areas: dict[Id, UnitCoverage] = field(default_factory=dict)
    buildings: dict[Id, UnitCoverage] = field(default_factory=dict)
    uncovered: list[Id] = field(default_factory=list)
    over_res: list[tuple[CareRecipient, str, tuple]] = field(default_factory=list)
    # building → service kind → providers (teams only) and the residents served
    bld_teams: dict[Id, dict[str, set]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    bld_served: dict[Id, dict[str, set]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))

    def units_of(self, area_id: Id | None, building_id: Id | None) -> list[UnitCoverage]:
        """The total, the area and the building a place lies in (created when first seen)."""
        units = [self.total]
        if area_id is not None:
            units.append(self.areas.setdefault(area_id, UnitCoverage(area_id, "area")))
        if building_id is not None:
            units.append(self.buildings.setdefault(building_id, UnitCoverage(building_id, "building", area_id)))
        return units

    def count_resident(self, r: CareRecipient, mine: list[CareLink], min_providers: int) -> None:
        overlaps = self._overlaps(r, mine, min_providers)
        for u in self.units_of(r.area_id, r.building_id):
            u.vulnerable += 1
            for k in r.kinds:
                u.by_kind[k] = u.by_kind.get(k, 0) + 1
            if mine:
                u.covered += 1
                for k in r.kinds:
                    u.covered_by_kind[k] = u.covered_by_kind.get(k, 0) + 1
            else:
                u.uncovered.append(r.id)
            if overlaps:
                u.over_served_residents += 1
        if not mine:
            self.uncovered.append(r.id)

    def _overlaps(self, r: CareRecipient, mine: list[CareLink], min_providers: int) -> list[tuple[str, tuple]]:
        """The service kinds the resident gets from several providers; notes the building's teams."""
        providers: dict[str, set] = defaultdict(set)
        for ln in mine:
            providers[ln.service_kind].add(_provider(ln))
            if r.building_id is not None:
                self.bld_served[r.building_id][ln.service_kind].add(r.id)
                if ln.team_id is not None:
                    self.bld_teams[r.building_id][ln.service_kind].add(ln.team_id)
        overlaps = [(kind, tuple(sorted(p, key=repr))) for kind, p in providers.items() if len(p) >= min_providers]
        for kind, p in sorted(overlaps, key=lambda o: o[0]):
            self.over_res.append((r, kind, p))
        return overlaps

    def count_carers(self, links: list[CareLink], info: dict[Id, CarerInfo]) -> list[CarerLoad]:
        """Every carer seen in the links or given with a limit, most loaded first; each adds to
        the units of their home."""
        duty: dict[Id, set] = defaultdict(set)
        link_team: dict[Id, Id | None] = {}
        for ln in links:
            duty[ln.carer_id].add(ln.resident_id)
            link_team.setdefault(ln.carer_id, ln.team_id)
        loads: list[CarerLoad] = []
        for cid in dict.fromkeys([*duty, *info]):
            c = info.get(cid)
            team = c.team_id if c is not None and c.team_id is not None else link_team.get(cid)
            row = CarerLoad(cid, team, len(duty.get(cid, ())), c.max_care if c is not None else None)
            loads.append(row)
            homes = self.units_of(c.area_id, c.building_id) if c is not None else [self.total]
            for u in homes:
                u.carers += 1
                u.assigned += row.assigned
                u.max_care += row.max_care or 0
        loads.sort(key=lambda c: (-(c.load if c.load is not None else -1), -c.assigned))
        return loads

    def gap(self, area_id: Id | None) -> int:
        unit = self.areas.get(area_id) if area_id is not None else None
        return len(unit.uncovered) if unit else 0

    def over_served(self, min_providers: int) -> list[OverServed]:
        """Residents first, then buildings where several teams give the same service kind."""
        over: list[OverServed] = [
            OverServed("resident", r.id, kind, tuple(_shown(x) for x in p), 1, r.area_id, self.gap(r.area_id))
            for r, kind, p in self.over_res
        ]
        for b_id, kinds in self.bld_teams.items():
            for kind, teams in sorted(kinds.items()):
                if len(teams) >= min_providers:
                    area_id = self.buildings[b_id].area_id
                    served = len(self.bld_served[b_id][kind])
                    teams_shown = tuple(sorted(teams, key=repr))
                    over.append(OverServed("building", b_id, kind, teams_shown, served, area_id, self.gap(area_id)))
        return over


def counts_by_kind(report: CoverageReport) -> list[tuple[str, int, int, float]]:
    """(kind, vulnerable, covered, share) over the whole report, most numerous kind first."""
    t = report.total
    rows = [(k, n, t.covered_by_kind.get(k, 0), t.covered_by_kind.get(k, 0) / n) for k, n in t.by_kind.items()]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def overloaded(report: CoverageReport) -> list[CarerLoad]:
    """Carers above their limit, most loaded first."""
    return [c for c in report.carers if c.over_limit]
