"""The demo street: the same seed gives the same people, the numbers are plausible, the chain
is complete, and the demo accounts work and see only their part of the grid."""

import json
from datetime import date

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import func, select

from renxing import migrate
from renxing.auth.models import AuditEntry, User, UserScope
from renxing.db import make_engine, transaction
from renxing.demo.build import DEMO_ACCOUNTS, DEMO_PASSWORD, build_demo
from renxing.demo.geo import demo_geography
from renxing.demo.population import REFERENCE_DATE
from renxing.errors import Conflict
from renxing.grid import service as grid
from renxing.grid.models import Building, Duty, GridUnit, Household, Level, Responsibility
from renxing.grid.scope import subtree_clause
from renxing.grid.service import CHAIN_DUTIES
from renxing.people.idcard import parse_id_number
from renxing.people.models import Resident
from tests.kit.client import login

SMALL = 0.03


def _people(engine) -> list[tuple]:
    with transaction(engine) as s:
        return list(
            s.execute(
                select(Resident.name, Resident.id_number, Resident.birth_date, Resident.phone, Resident.path).order_by(
                    Resident.id
                )
            )
        )


def test_same_seed_builds_the_same_street(tmp_path):
    engines = [make_engine(f"sqlite:///{tmp_path / f'demo{i}.db'}") for i in range(3)]
    try:
        for e, seed in zip(engines, (7, 7, 8), strict=True):
            migrate.upgrade(e)
            build_demo(e, seed=seed, scale=0.02)
        first, again, other = (_people(e) for e in engines)
    finally:
        for e in engines:
            e.dispose()
    assert len(first) > 500
    assert first == again
    assert [p[1] for p in first] != [p[1] for p in other]


def test_refuses_a_database_that_is_not_empty(engine):
    build_demo(engine, scale=0.01)
    with pytest.raises(Conflict, match="数据库非空"):
        build_demo(engine, scale=0.01)


def test_proportions_are_plausible(engine):
    summary = build_demo(engine, scale=0.1)
    flagship, highrise = summary.communities[0], summary.communities[1]
    assert (flagship.kind, highrise.kind) == ("old_estate", "highrise")
    assert len({c.kind for c in summary.communities}) == 5
    aged60_born_by = date(REFERENCE_DATE.year - 60, REFERENCE_DATE.month, REFERENCE_DATE.day)
    with transaction(engine) as s:

        def count(path: str, *where) -> int:
            return s.scalar(select(func.count(Resident.id)).where(subtree_clause(Resident.path, path), *where)) or 0

        def households(path: str) -> int:
            return s.scalar(select(func.count(Household.id)).where(subtree_clause(Household.path, path))) or 0

        paths = {c.code: s.get(GridUnit, c.unit_id).path for c in summary.communities}
        gh = paths[flagship.code]
        residents = count(gh)
        aged60 = count(gh, Resident.birth_date <= aged60_born_by)
        assert residents == flagship.residents
        assert aged60 / residents > 0.30
        assert 2.3 <= residents / households(gh) <= 2.9
        assert 0.06 <= count(gh, Resident.living_alone.is_(True)) / aged60 <= 0.15
        assert 0.03 <= count(gh, Resident.disability_kind.is_not(None)) / residents <= 0.10
        assert count(gh, Resident.chronic_illness.is_not(None), Resident.birth_date <= aged60_born_by) / aged60 >= 0.30
        jx = paths[highrise.code]
        assert count(jx, Resident.birth_date <= aged60_born_by) / count(jx) < aged60 / residents - 0.1
        # Walk-ups of the 1980s in the flagship, towers with lifts in the high-rise community.
        gh_buildings = s.execute(
            select(Building.floors, Building.has_elevator, Building.year_built, Building.structure)
            .join(GridUnit, GridUnit.id == Building.id)
            .where(subtree_clause(GridUnit.path, gh))
        ).all()
        assert {(f, e, st) for f, e, _, st in gh_buildings} == {(6, False, "砖混")}
        assert all(1982 <= y <= 1989 for _, _, y, _ in gh_buildings)
        jx_floors = s.scalars(
            select(Building.floors).join(GridUnit, GridUnit.id == Building.id).where(subtree_clause(GridUnit.path, jx))
        ).all()
        assert min(jx_floors) >= 18
        adults = s.scalar(select(func.count(Resident.id)).where(Resident.birth_date <= date(2007, 1, 1)))
        party = s.scalar(select(func.count(Resident.id)).where(Resident.party_member.is_(True)))
        assert 0.06 <= party / adults <= 0.12
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity == "demo")).all()
        assert [(a.action, a.after["residents"]) for a in audit] == [("import", summary.residents)]


def test_ids_paths_and_the_chain_are_complete(engine):
    build_demo(engine, scale=SMALL)
    with transaction(engine) as s:
        numbers = s.scalars(select(Resident.id_number)).all()
        assert len(numbers) == len(set(numbers)) > 300
        for n in numbers:
            parse_id_number(n)  # raises on a bad checksum or date
        mismatched = s.scalar(
            select(func.count(Resident.id))
            .join(Household, Household.id == Resident.household_id)
            .join(GridUnit, GridUnit.id == Household.building_id)
            .where((Resident.path != GridUnit.path) | (Household.path != GridUnit.path))
        )
        assert mismatched == 0
        bad_paths = [u.code for u in s.scalars(select(GridUnit)) if not u.path.endswith(f"/{u.id}/") or u.lon is None]
        assert bad_paths == []
        for hh_id in s.scalars(select(Household.id)):
            links = grid.chain(s, household_id=hh_id)
            staffed = {link.duty for link in links if link.people}
            assert set(CHAIN_DUTIES) | {Duty.grid_worker} <= staffed, hh_id
        # Party members who answer for households are residents who are party members.
        members = (
            s.execute(
                select(Resident.party_member)
                .join(Responsibility, Responsibility.resident_id == Resident.id)
                .where(Responsibility.duty == Duty.party_member.value)
            )
            .scalars()
            .all()
        )
        assert members and all(members)


def test_geometry_sits_in_nanjing_and_nests():
    geo = demo_geography(2023)
    assert geo == demo_geography(2023)
    kinds = [f["properties"]["kind"] for f in geo["features"]]
    assert kinds.count("river") == 1 and kinds.count("park") == 1 and kinds.count("road") >= 3
    river = shape(geo["features"][0]["geometry"])
    assert river.geom_type == "LineString"
    assert 118.7 < river.centroid.x < 118.9 and 31.9 < river.centroid.y < 32.2


def test_units_have_geometry_inside_their_parent(engine):
    build_demo(engine, scale=SMALL)
    with transaction(engine) as s:
        units = {u.id: u for u in s.scalars(select(GridUnit))}
    for u in units.values():
        poly = shape(json.loads(u.geometry))
        assert poly.is_valid and poly.geom_type == "Polygon"
        if u.parent_id is not None:
            assert shape(json.loads(units[u.parent_id].geometry)).contains(Point(u.lon, u.lat)), u.code


def _scope_unit(s, user_id: int) -> GridUnit:
    return s.scalar(
        select(GridUnit).join(UserScope, UserScope.unit_id == GridUnit.id).where(UserScope.user_id == user_id)
    )


def test_demo_accounts_log_in_and_see_their_scope(engine, client):
    build_demo(engine, scale=SMALL)
    for username, role, _zh, _en in DEMO_ACCOUNTS:
        me = client.get("/api/v1/auth/me", headers=login(client, username, DEMO_PASSWORD)).json()
        assert me["role"] == role, username
    with transaction(engine) as s:
        users = {u.username: u for u in s.scalars(select(User))}
        gw = users["gridworker1"]
        area = _scope_unit(s, gw.id)
        assert area.level == Level.area.value
        duty = s.scalar(
            select(Responsibility).where(
                Responsibility.unit_id == area.id, Responsibility.duty == Duty.grid_worker.value
            )
        )
        assert (duty.user_id, duty.person_name) == (gw.id, gw.display_name)
        in_area = s.scalar(select(func.count(Resident.id)).where(subtree_clause(Resident.path, area.path)))
        area_households = set(s.scalars(select(Household.id).where(subtree_clause(Household.path, area.path))))
        resident1 = s.get(Resident, users["resident1"].resident_id)
        assert resident1.path.startswith(area.path)
        leader_building = _scope_unit(s, users["leader1"].id)
        assert leader_building.level == Level.building.value and leader_building.path.startswith(area.path)
        outsider = s.scalar(select(Resident.id).where(~subtree_clause(Resident.path, area.path)).limit(1))
        secretary = s.scalar(
            select(Responsibility).where(Responsibility.duty == Duty.secretary.value).order_by(Responsibility.id)
        )
        assert users["secretary"].display_name == secretary.person_name
    page = client.get(
        "/api/v1/residents", params={"size": 500}, headers=login(client, "gridworker1", DEMO_PASSWORD)
    ).json()
    assert page["total"] == in_area > 0
    assert {r["household_id"] for r in page["items"]} <= area_households
    r = client.get(f"/api/v1/residents/{outsider}", headers=login(client, "gridworker1", DEMO_PASSWORD))
    assert r.status_code == 404
