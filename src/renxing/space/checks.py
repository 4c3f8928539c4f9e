"""The 让防避 checks: problems a community should fix before the flood or the fire. Pure.

- buildings in high-hazard zones (level ≥ 3): residents to move or protect (让);
- shelters inside hazard zones: a refuge that is itself at risk;
- shelters with fewer than two exits, or fewer than two access roads (GB 21734-2008: at least two
  evacuation roads in different directions); a road is an access road when it comes within
  ``access_m`` of the shelter;
- emergency passages narrower than the set width (default 4 m, the clear width of a fire lane);
- areas whose share of nearby open shelter capacity is below their population: each open shelter's
  capacity is shared among the areas within ``radius_m`` in proportion to their population, so one
  shelter is never counted twice.
"""

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from renxing.geo.metric import LocalPlane
from renxing.geo.sphere import haversine_m
from renxing.i18n import _


@dataclass(frozen=True)
class Zone:
    id: int
    name: str
    kind: str
    level: int
    geom: BaseGeometry


@dataclass(frozen=True)
class Place:
    """A building or an area: something with a point, maybe an outline, and people."""

    id: int
    name: str
    lon: float
    lat: float
    geom: BaseGeometry | None = None
    population: int = 0


@dataclass(frozen=True)
class ShelterSite:
    id: int
    name: str
    geom: BaseGeometry
    lon: float
    lat: float
    exits: int
    capacity: int
    status: str


@dataclass(frozen=True)
class Line:
    id: int
    name: str
    geom: BaseGeometry
    width_m: float | None = None


@dataclass
class Problem:
    check: str
    layer: str
    id: int
    name: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "layer": self.layer,
            "id": self.id,
            "name": self.name,
            "message": self.message,
            "detail": self.detail,
        }


def _shape_of(p: Place) -> BaseGeometry:
    return p.geom if p.geom is not None else shapely.Point(p.lon, p.lat)


def buildings_in_high_hazard(zones: Sequence[Zone], buildings: Sequence[Place], min_level: int = 3) -> list[Problem]:
    high = [z for z in zones if z.level >= min_level]
    out = []
    for b in buildings:
        g = _shape_of(b)
        hit = [z for z in high if z.geom.intersects(g) and (g.geom_type == "Point" or z.geom.intersection(g).area > 0)]
        if hit:
            worst = max(hit, key=lambda z: z.level)
            out.append(
                Problem(
                    "building_in_high_hazard",
                    "buildings",
                    b.id,
                    b.name,
                    _("楼栋位于高风险区「{name}」").format(name=worst.name),
                    {"zones": [z.id for z in hit], "level": worst.level, "kind": worst.kind},
                )
            )
    return out


def shelters_in_hazard(zones: Sequence[Zone], shelters: Sequence[ShelterSite]) -> list[Problem]:
    out = []
    for s in shelters:
        hit = [
            z for z in zones if z.geom.intersects(s.geom) and (s.geom.area == 0 or z.geom.intersection(s.geom).area > 0)
        ]
        if hit:
            worst = max(hit, key=lambda z: z.level)
            out.append(
                Problem(
                    "shelter_in_hazard",
                    "shelters",
                    s.id,
                    s.name,
                    _("避难场所位于风险区「{name}」").format(name=worst.name),
                    {"zones": [z.id for z in hit], "level": worst.level, "kind": worst.kind, "status": s.status},
                )
            )
    return out


def shelter_access(shelters: Sequence[ShelterSite], roads: Sequence[Line], access_m: float = 20.0) -> list[Problem]:
    """Fewer than two exits, or fewer than two distinct roads reaching the shelter."""
    out = []
    tree = shapely.STRtree([r.geom for r in roads]) if roads else None
    for s in shelters:
        if s.exits < 2:
            out.append(
                Problem(
                    "shelter_exits",
                    "shelters",
                    s.id,
                    s.name,
                    _("出入口少于两个（{exits}）").format(exits=s.exits),
                    {"exits": s.exits},
                )
            )
        plane = LocalPlane(s.lon, s.lat)
        reach = plane.to_deg(plane.to_m(s.geom).buffer(access_m))
        names: set[str] = set()
        if tree is not None:
            for k in tree.query(reach, predicate="intersects"):
                r = roads[k]
                names.add(r.name.strip() or f"#{r.id}")  # segments of one named street are one road
        if len(names) < 2:
            out.append(
                Problem(
                    "shelter_access_roads",
                    "shelters",
                    s.id,
                    s.name,
                    _("通达道路少于两条（{len}）").format(len=len(names)),
                    {"roads": sorted(names), "access_m": access_m},
                )
            )
    return out


def narrow_passages(passages: Sequence[Line], min_width_m: float = 4.0) -> list[Problem]:
    out = []
    for p in passages:
        if p.width_m is not None and p.width_m < min_width_m:
            out.append(
                Problem(
                    "narrow_passage",
                    "passages",
                    p.id,
                    p.name,
                    _("通道宽 {width_m:g} m，低于 {min_width_m:g} m").format(
                        width_m=p.width_m, min_width_m=min_width_m
                    ),
                    {"width_m": p.width_m, "min_width_m": min_width_m},
                )
            )
    return out


def area_capacity(areas: Sequence[Place], shelters: Sequence[ShelterSite], radius_m: float = 1000.0) -> list[Problem]:
    """Areas whose population exceeds their share of the open shelter capacity within ``radius_m``."""
    share: dict[int, float] = defaultdict(float)
    for s in shelters:
        if s.status != "open" or s.capacity <= 0:
            continue
        near = [a for a in areas if haversine_m(a.lon, a.lat, s.lon, s.lat) <= radius_m and a.population > 0]
        people = sum(a.population for a in near)
        for a in near:
            share[a.id] += s.capacity * a.population / people
    out = []
    for a in areas:
        if a.population <= 0:
            continue
        places = math.floor(share.get(a.id, 0.0) + 1e-9)
        if places < a.population:
            out.append(
                Problem(
                    "area_capacity",
                    "areas",
                    a.id,
                    a.name,
                    _("附近避难容量 {places} 人，少于人口 {population} 人").format(
                        places=places, population=a.population
                    ),
                    {"capacity": places, "population": a.population, "shortfall": a.population - places},
                )
            )
    return out
