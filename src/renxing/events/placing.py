"""Placing a report: its household, the unit picked, or where its point falls.

    place = locate(session, actor, data, errors)   # Located(unit_id, path, level, household_id, source) or None

A household or a picked unit wins; otherwise the point is located by point-in-polygon over the
grid units' GeoJSON outlines (:mod:`renxing.geo.outlines`; the index is cached per database and
rebuilt when units change), else the nearest building within ``NEAREST_BUILDING_M``. A point
outside every community is an error on ``lat`` and ``long``. Residents report from their own
household only: any other is "not found" to them.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.errors import Collector
from renxing.events import cache
from renxing.events.schemas import ReportIn
from renxing.geo import outlines, sphere
from renxing.grid.models import GridUnit, Household, Level
from renxing.i18n import _

NEAREST_BUILDING_M = 100.0


@dataclass(frozen=True)
class Located:
    """Where a report is: the unit it is placed at (a building, an area …) and how it was found."""

    unit_id: int
    path: str
    level: str  # household | building | area | compound | community
    household_id: int | None
    source: str  # household | unit | polygon | nearest


def invalidate_geo_cache() -> None:
    """Forget every cached outline index and routing decision of this process (the caches
    also notice changes by themselves, see :mod:`renxing.events.cache`)."""
    cache.clear()


def geo_index(session: Session, versions: cache.Versions | None = None) -> outlines.GeoIndex:
    """The outlines of the grid, built once per database and process and rebuilt when the
    ``grid`` version (changed by triggers on every grid unit write) moves."""
    v = versions or cache.versions(session)

    def build() -> outlines.GeoIndex:
        shapes = [
            outlines.UnitShape(i, lv, p, g)
            for i, lv, p, g in session.execute(
                select(GridUnit.id, GridUnit.level, GridUnit.path, GridUnit.geometry).where(
                    GridUnit.geometry.is_not(None)
                )
            )
        ]
        buildings = [
            outlines.UnitPoint(i, p, lon, lat)
            for i, p, lon, lat in session.execute(
                select(GridUnit.id, GridUnit.path, GridUnit.lon, GridUnit.lat).where(
                    GridUnit.level == Level.building.value, GridUnit.lon.is_not(None), GridUnit.lat.is_not(None)
                )
            )
        ]
        return outlines.GeoIndex(shapes, buildings)

    return cache.outlines.get(cache.database_of(session), v.grid, "index", build)


def locate(
    session: Session, actor: Principal, data: ReportIn, errors: Collector, versions: cache.Versions | None = None
) -> Located | None:
    """The place of a report: the household, the unit picked, or where the point falls."""
    point_given = data.lat is not None or data.long is not None
    if point_given and not sphere.valid_point(data.long, data.lat):
        errors.add("lat", _("坐标无效"), value=data.lat)
        errors.add("long", _("坐标无效"), value=data.long)
        return None
    if data.household_id is not None:
        hh = session.get(Household, data.household_id)
        if hh is None or (actor.household_only and hh.id != actor.household_id):
            # Residents report from their own household only; others' households stay unknown.
            errors.add("household_id", _("户不存在或不可选"), value=data.household_id)
            return None
        return Located(hh.building_id, hh.path, "household", hh.id, "household")
    if data.unit_id is not None:
        unit = session.get(GridUnit, data.unit_id)
        if unit is None or unit.level == Level.street.value:
            msg = _("请选择社区内的楼栋或网格")
            errors.add("unit_id", msg, value=data.unit_id)
            return None
        return Located(unit.id, unit.path, unit.level, None, "unit")
    if point_given:
        hit = geo_index(session, versions).locate(data.long, data.lat, nearest_m=NEAREST_BUILDING_M)  # type: ignore[arg-type]
        if hit is None:
            msg = _("该位置不在任何社区范围内")
            errors.add("lat", msg, value=data.lat)
            errors.add("long", msg, value=data.long)
            return None
        return Located(hit.unit_id, hit.path, hit.level, None, hit.source)
    errors.add("place", _("请选择楼栋或在地图上选点"))
    return None
