"""A small evacuation world on top of ``world``: roads, shelters, a candidate school and hazard zones
of community C1, laid out in metres (see ``tests.kit.space_world``).

        school (200,250) ── detour ── (400,250)
            │                            │
   far (0,600)                           │
       │                                 │
      B1 (0,0) ── west ── B2 (200,0) ── east ── park (400,0)
       │
    gym (0,-900)

B1 has 3 residents (1 adult, 2 aged 65+), B2 has 1 adult (from ``tests.kit.factories``).
"""

from dataclasses import dataclass, field

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.space import layers as space
from tests.kit.space_world import line, ll, place_world, square


@dataclass
class PlanWorld:
    roads: dict[str, int] = field(default_factory=dict)
    shelters: dict[str, int] = field(default_factory=dict)
    zones: dict[str, int] = field(default_factory=dict)


def build_plan_world(engine, world, *, park_m2: float = 3.0, far_m2: float = 1.5) -> PlanWorld:
    """Class III shelters hold one person per 1.5 m²: by default the park takes 2 and the far
    shelter 1, so one of the four residents is left without a place until the school opens."""
    place_world(engine, world)
    pw = PlanWorld()
    c1 = world.units["C1"]
    with transaction(engine) as s:

        def add(layer: str, key: str, into: dict, **values) -> None:
            _, obj = space.create_feature(s, SYSTEM, layer, {"unit_id": c1, **values})
            into[key] = obj.id

        for key, name, pts in [
            ("west", "幸福路西段", [(0, 0), (200, 0)]),
            ("east", "幸福路东段", [(200, 0), (400, 0)]),
            ("north", "学府路", [(0, 0), (0, 600)]),
            ("campus", "校园路", [(200, 0), (200, 250)]),
            ("detour", "绕行路", [(200, 250), (400, 250), (400, 0)]),
            ("south", "南街", [(0, 0), (0, -900)]),
        ]:
            add("roads", key, pw.roads, name=name, kind="residential", geometry=line(*pts))

        def shelter(key: str, name: str, x: float, y: float, area: float, status: str, kind: str = "park") -> None:
            add(
                "shelters",
                key,
                pw.shelters,
                name=name,
                kind=kind,
                geometry=square(x, y, 5),
                lon=ll(x, y)[0],
                lat=ll(x, y)[1],
                effective_area_m2=area,
                shelter_class="III",
                status=status,
            )

        shelter("park", "幸福公园", 400, 0, park_m2, "open")
        shelter("far", "北广场", 0, 600, far_m2, "open", "square")
        shelter("school", "阳光小学操场", 200, 250, 75.0, "candidate", "school_playground")
        shelter("gym", "南体育馆", 0, -900, 75.0, "candidate", "stadium")
        zones = [
            ("flood_b1", "一苑低洼积水区", "flood", 3, "0.3-0.5", square(0, 0, 50)),
            ("flood_east", "东段深积水", "flood", 4, ">1", square(300, 0, 30)),
            ("fire_park", "公园火险区", "fire", 3, None, square(400, 0, 20)),
        ]
        for key, name, kind, level, depth, geom in zones:
            add("hazard_zones", key, pw.zones, name=name, kind=kind, level=level, depth_class=depth, geometry=geom)
    return pw
