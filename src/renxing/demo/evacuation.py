"""The demo street's saved evacuation scenarios, one set per community, from its space layers.

- 地震全员疏散: an earthquake, everybody out to the open shelters;
- 暴雨内涝: the flood bands 0.3 m and deeper are hit (their buildings leave, roads under 0.5 m or
  more of water are cut), where the community lies by the river;
- 老旧线路火灾: the fire-risk zone over the block of worn wiring is hit, where there is one.

Plans are not computed here: each is computed when first opened and kept until its inputs change.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.principal import SYSTEM
from renxing.grid.models import GridUnit, Level
from renxing.i18n import bilingual
from renxing.space.models import DepthClass, HazardKind, HazardZone
from renxing.space.planning import scenarios

_HIT_DEPTHS = {DepthClass.d_0_3_0_5.value, DepthClass.d_0_5_1.value, DepthClass.gt_1.value}


def add_scenarios(session: Session) -> int:
    """Save the scenarios; returns how many."""
    n = 0
    communities = session.scalars(
        select(GridUnit).where(GridUnit.level == Level.community.value).order_by(GridUnit.code)
    ).all()
    for c in communities:
        zones = list(session.scalars(select(HazardZone).where(HazardZone.unit_id == c.id).order_by(HazardZone.id)))
        wanted = [
            ("地震全员疏散", bilingual("地震后全体居民到开放的避难场所"), [], True),
            (
                "暴雨内涝",
                bilingual("积水 0.3 米以上的区域撤离，0.5 米以上积水的道路中断"),
                [z.id for z in zones if z.kind == HazardKind.flood.value and z.depth_class in _HIT_DEPTHS],
                False,
            ),
            (
                "老旧线路火灾",
                bilingual("老旧线路楼群火灾，火险区内楼栋撤离"),
                [z.id for z in zones if z.kind == HazardKind.fire.value],
                False,
            ),
        ]
        for name, note, zone_ids, everyone in wanted:
            if not everyone and not zone_ids:
                continue
            scenarios.create_scenario(
                session,
                SYSTEM,
                {
                    "community_id": c.id,
                    "name": name,
                    "note": note,
                    "hazard_zone_ids": zone_ids,
                    "evacuate_all": everyone,
                },
            )
            n += 1
    return n
