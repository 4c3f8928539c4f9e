"""Storage points: each kind's rules, coordinates in any of the three datums, scope (another
community's staff cannot touch them), partners editing only their own site's contact, the
point's identity fixed once stock has moved, and minimum levels."""

import pytest
from sqlalchemy import select

from renxing.auth.models import AuditEntry, User
from renxing.auth.principal import SYSTEM
from renxing.auth.service import principal_for
from renxing.db import transaction
from renxing.errors import Conflict, Forbidden, Invalid, NotFound
from renxing.geo.coords import gcj02_to_wgs84
from renxing.listing import ListQuery
from renxing.partners.models import Organization
from renxing.space.models import Shelter
from renxing.supplies import movements, points
from renxing.supplies.models import MinLevel, StoragePoint
from renxing.supplies.movements import ReceiptLine
from renxing.supplies.schemas import PointIn, PointPatch
from tests.kit.supplies_world import supplies_world


def acting(engine, username):
    with transaction(engine) as s:
        return principal_for(s, s.scalar(select(User).where(User.username == username)))


def fields(exc) -> set[str]:
    return {e.field for e in exc.value.errors}


@pytest.fixture
def sw(engine, world):
    return supplies_world(engine, world)


def test_each_kind_has_its_rules(engine, world, sw):
    staff = acting(engine, "secretary")
    c1, u = world.units["C1"], world.units
    with transaction(engine) as s:
        s.add(Organization(unit_id=u["C2"], path=f"/{u['S']}/{u['C2']}/", name="和平物业", kind="property_company"))
        park = Shelter(unit_id=c1, name="幸福公园", kind="park", lon=118.791, lat=32.061, effective_area_m2=900)
        s.add(park)
        s.flush()
        other_org = s.scalar(select(Organization.id).where(Organization.name == "和平物业"))
        park_id = park.id
    base = {"unit_id": c1, "name": "新储备点"}
    bad_cases = [
        ({"kind": "garage"}, {"kind"}),
        ({"kind": "partner_site"}, {"org_id"}),
        ({"kind": "partner_site", "org_id": other_org}, {"org_id"}),  # a partner of another community
        ({"kind": "community_store", "org_id": sw.orgs["market"]}, {"org_id"}),
        ({"kind": "household_kits"}, {"building_id"}),
        ({"kind": "household_kits", "building_id": u["B3"]}, {"building_id"}),  # a building of C2
        ({"kind": "household_kits", "building_id": u["A1"]}, {"building_id"}),  # not a building
        ({"kind": "community_store", "households": 3}, {"households"}),
        ({"kind": "shelter_store", "shelter_id": park_id + 1000}, {"shelter_id"}),
        ({"kind": "community_store", "lon": 118.8}, {"lat"}),
        ({"kind": "community_store", "contact_phone": "12345"}, {"contact_phone"}),
    ]
    for extra, expected in bad_cases:
        with transaction(engine) as s, pytest.raises(Invalid) as exc:
            points.create_point(s, staff, PointIn(**base, **extra))
        assert fields(exc) == expected, extra
    with transaction(engine) as s, pytest.raises(Conflict):
        points.create_point(s, staff, PointIn(unit_id=c1, name="阳光社区应急物资储备点", kind="community_store"))

    with transaction(engine) as s:
        kits = points.create_point(s, staff, PointIn(**base, kind="household_kits", building_id=u["B2"], households=12))
        shelter = points.create_point(
            s, staff, PointIn(unit_id=c1, name="公园库房", kind="shelter_store", shelter_id=park_id)
        )
        site = points.create_point(
            s,
            staff,
            PointIn(
                unit_id=c1,
                name="超市二号仓",
                kind="partner_site",
                org_id=sw.orgs["market"],
                contact_phone="139 1234 5678",
            ),
        )
        b2 = s.scalar(select(StoragePoint.path).where(StoragePoint.id == sw.points["kits_b1"]))
        assert kits.path.endswith(f"/{u['B2']}/") and kits.path != b2  # the building's own path
        assert (kits.lon, kits.lat) == (118.79, 32.06)  # the building's place by default
        assert (shelter.lon, shelter.lat) == (118.791, 32.061) and shelter.path == f"/{u['S']}/{c1}/"
        assert site.contact_phone == "13912345678"
        assert (
            s.scalar(
                select(AuditEntry.action).where(AuditEntry.entity == "storage_point", AuditEntry.entity_id == site.id)
            )
            == "create"
        )


def test_coordinates_in_gcj02_are_stored_in_wgs84(engine, world, sw):
    staff = acting(engine, "secretary")
    with transaction(engine) as s:
        p = points.create_point(
            s,
            staff,
            PointIn(unit_id=world.units["C1"], name="高德坐标点", kind="community_store", lon=118.80, lat=32.06),
            crs="gcj02",
        )
        expected = gcj02_to_wgs84(118.80, 32.06)
        assert (p.lon, p.lat) == pytest.approx(expected, abs=1e-9)
        assert abs(p.lon - 118.80) > 1e-3  # really moved: the datums differ by hundreds of metres here
        shown = points.present(p, None, points.crs_of("bd09"))
        assert shown["lon"] != p.lon
        with pytest.raises(Invalid) as exc:
            points.crs_of("mars")
        assert fields(exc) == {"crs"}


def test_scope_another_community_cannot_touch_them(engine, world, sw):
    staff2 = acting(engine, "staff2")
    with transaction(engine) as s:
        seen = points.list_points(s, staff2, ListQuery(size=50))
        assert [p.id for p in seen.items] == [sw.points["store2"]]
        with pytest.raises(NotFound):
            points.get_point(s, staff2, sw.points["store"])
        with pytest.raises(NotFound):
            points.update_point(s, staff2, sw.points["store"], PointPatch(name="x"))
        with pytest.raises(Forbidden):
            points.create_point(s, staff2, PointIn(unit_id=world.units["C1"], name="x", kind="community_store"))
        with pytest.raises(NotFound):
            points.set_minimum(s, staff2, sw.points["store"], sw.items["water"], 10)
        # Grid workers see their community's points but do not manage them.
        worker = acting(engine, "gridworker1")
        assert points.list_points(s, worker, ListQuery(filters={"kind": "household_kits"})).total == 1
        with pytest.raises(Forbidden):
            points.update_point(s, worker, sw.points["kits_b1"], PointPatch(households=3))
        street = acting(engine, "street")
        assert points.list_points(s, street, ListQuery(size=50)).total == 5
        assert points.list_points(s, street, ListQuery(filters={"unit_id": world.units["C2"]})).total == 1
        assert points.list_points(s, street, ListQuery(filters={"org_id": sw.orgs["school"]})).total == 1
        with pytest.raises(Invalid) as exc:
            points.list_points(s, street, ListQuery(filters={"kind": "garage"}))
        assert fields(exc) == {"kind"}


def test_a_partner_edits_only_the_contact_of_its_own_site(engine, world, sw):
    partner = acting(engine, "partner1")
    with transaction(engine) as s:
        mine = points.list_points(s, partner, ListQuery(size=50))
        assert [p.id for p in mine.items] == [sw.points["market"]]
        changed = points.update_point(
            s,
            partner,
            sw.points["market"],
            PointPatch(contact_name="王店长", contact_phone="025-5200 0002", access_hours="8:00–22:00"),
        )
        assert (changed.contact_phone, changed.access_hours) == ("025-52000002", "8:00–22:00")
    for patch, expected in [
        (PointPatch(name="改名"), {"name"}),
        (PointPatch(active=False, kind="community_store"), {"active", "kind"}),
    ]:
        with transaction(engine) as s, pytest.raises(Forbidden) as exc:
            points.update_point(s, partner, sw.points["market"], patch)
        assert fields(exc) == expected
    with transaction(engine) as s, pytest.raises(NotFound):
        points.update_point(s, partner, sw.points["school"], PointPatch(contact_name="x"))
    with transaction(engine) as s, pytest.raises(Forbidden):
        points.set_minimum(s, partner, sw.points["market"], sw.items["water"], 10)


def test_what_a_point_is_stays_once_stock_has_moved(engine, world, sw):
    staff = acting(engine, "secretary")
    with transaction(engine) as s:
        # No stock yet: the school's site may become the community's own store.
        points.update_point(s, staff, sw.points["school"], PointPatch(kind="community_store", org_id=None))
        movements.receive(s, SYSTEM, sw.points["store"], [ReceiptLine(sw.items["blanket"], 10)])
    with transaction(engine) as s, pytest.raises(Conflict) as exc:
        points.update_point(s, staff, sw.points["store"], PointPatch(kind="partner_site", org_id=sw.orgs["market"]))
    assert fields(exc) == {"kind", "org_id"}
    with transaction(engine) as s:
        p = points.update_point(s, staff, sw.points["store"], PointPatch(active=False, lon=118.7, lat=32.1))
        assert (p.active, p.lon, p.lat) == (False, 118.7, 32.1)
    with transaction(engine) as s, pytest.raises(Invalid) as exc:
        points.update_point(s, staff, sw.points["store"], PointPatch(lon=118.7))
    assert fields(exc) == {"lat"}


def test_minimum_levels_set_change_and_clear(engine, world, sw):
    staff = acting(engine, "secretary")
    store, water = sw.points["store"], sw.items["water"]
    with transaction(engine) as s:
        points.set_minimum(s, staff, store, water, 500)
        points.set_minimum(s, staff, store, sw.items["blanket"], 20)
        s.scalar(select(MinLevel).where(MinLevel.item_id == water)).below_since = s.scalar(
            select(StoragePoint.created_at)
        )
    with transaction(engine) as s:
        row, item = points.set_minimum(s, staff, store, water, 800)
        assert (row.minimum, row.below_since, item.unit) == (800, None, "L")  # a new minimum re-arms its notice
        shown = [points.present_minimum(m, i) for m, i in points.list_minimums(s, acting(engine, "gridworker1"), store)]
        assert [(x["item"], x["minimum"]) for x in shown] == [
            ("棉被", 20),
            ("饮用水", 800),
        ]  # by category: shelter, water
        points.clear_minimum(s, staff, store, water)
        with pytest.raises(NotFound):
            points.clear_minimum(s, staff, store, water)
        with pytest.raises(NotFound):
            points.set_minimum(s, staff, store, 999_999, 1)
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "supply_min_level"))
        assert sorted(actions) == ["create", "create", "delete", "update"]
