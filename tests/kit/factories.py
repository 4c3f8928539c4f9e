"""A small hand-made world for tests: two communities, every role, a filled chain.

street 街道
├── C1 阳光社区 ── P1 一苑 ─┬─ A1 一片区 ── B1 1栋 ── H1 (王建国 householder, 王小明), H2 (李梅)
│                           └─ A2 二片区 ── B2 2栋 ── H3 (赵强)
└── C2 和平社区 ── P2 二苑 ─── A3 三片区 ── B3 3栋 ── H4 (陈芳)
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine

from renxing.auth import service as auth_service
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.grid import service as grid
from renxing.grid.models import Building, Duty, Level
from renxing.people import service as people
from renxing.people.idcard import make_id_number
from renxing.people.schemas import ResidentIn

PASSWORD = "test-password"


@dataclass
class World:
    units: dict[str, int] = field(default_factory=dict)
    households: dict[str, int] = field(default_factory=dict)
    residents: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)


def build_world(engine: Engine) -> World:
    w = World()
    with transaction(engine) as s:

        def unit(key, level, name, parent=None, lon=118.79, lat=32.06):
            u = grid.create_unit(
                s, SYSTEM, level=level, code=key, name=name, parent_id=w.units.get(parent), lon=lon, lat=lat
            )
            w.units[key] = u.id
            if level is Level.building:
                s.add(Building(id=u.id, units=2, floors=6, year_built=1985, structure="砖混"))
            return u

        unit("S", Level.street, "测试街道")
        unit("C1", Level.community, "阳光社区", "S")
        unit("C2", Level.community, "和平社区", "S")
        unit("P1", Level.compound, "一苑", "C1")
        unit("P2", Level.compound, "二苑", "C2")
        unit("A1", Level.area, "一片区", "P1")
        unit("A2", Level.area, "二片区", "P1")
        unit("A3", Level.area, "三片区", "P2")
        unit("B1", Level.building, "1栋", "A1")
        unit("B2", Level.building, "2栋", "A2")
        unit("B3", Level.building, "3栋", "A3")
        for key, b, unit_no, room in [
            ("H1", "B1", 1, "101"),
            ("H2", "B1", 2, "201"),
            ("H3", "B2", 1, "102"),
            ("H4", "B3", 1, "301"),
        ]:
            w.households[key] = grid.create_household(s, SYSTEM, building_id=w.units[b], unit_no=unit_no, room=room).id
        people_rows = [
            (
                "wang",
                "H1",
                "王建国",
                date(1940, 3, 5),
                "M",
                "13812345678",
                dict(relation="户主", living_alone=False, chronic_illness="高血压", special_needs="oxygen"),
            ),
            ("wangxm", "H1", "王小明", date(1990, 6, 1), "M", "13912345678", dict(relation="子女")),
            ("li", "H2", "李梅", date(1950, 1, 9), "F", "13712345678", dict(relation="户主", living_alone=True)),
            ("zhao", "H3", "赵强", date(1985, 7, 7), "M", "13612345678", dict(relation="户主")),
            ("chen", "H4", "陈芳", date(1938, 2, 2), "F", "13512345678", dict(relation="户主", bedridden=True)),
        ]
        for i, (key, hh, name, born, gender, phone, extra) in enumerate(people_rows):
            r = people.create_resident(
                s,
                SYSTEM,
                ResidentIn(
                    household_id=w.households[hh],
                    name=name,
                    id_number=make_id_number("320102", born, 100 + i, gender),
                    phone=phone,
                    **extra,
                ),
            )
            w.residents[key] = r.id
        today = date(2024, 1, 1)
        grid.assign(
            s,
            SYSTEM,
            duty=Duty.secretary,
            unit_id=w.units["C1"],
            person_name="周书记",
            phone="13800000001",
            start=today,
        )
        grid.assign(s, SYSTEM, duty=Duty.branch_secretary, unit_id=w.units["P1"], person_name="吴支书", start=today)
        grid.assign(s, SYSTEM, duty=Duty.branch_committee, unit_id=w.units["A1"], person_name="郑委员", start=today)
        grid.assign(s, SYSTEM, duty=Duty.grid_worker, unit_id=w.units["A1"], person_name="孙网格", start=today)
        grid.assign(s, SYSTEM, duty=Duty.party_group_leader, unit_id=w.units["B1"], person_name="钱组长", start=today)
        grid.assign(
            s, SYSTEM, duty=Duty.party_member, household_id=w.households["H1"], person_name="冯党员", start=today
        )
        grid.assign(
            s,
            SYSTEM,
            duty=Duty.party_member,
            household_id=w.households["H2"],
            person_name="过去的党员",
            start=date(2020, 1, 1),
            end=date(2021, 1, 1),
        )
        accounts = [
            ("admin", Role.sysadmin, []),
            ("street", Role.street_admin, ["S"]),
            ("secretary", Role.community_staff, ["C1"]),
            ("staff2", Role.community_staff, ["C2"]),
            ("gridworker1", Role.grid_worker, ["A1"]),
            ("leader1", Role.building_leader, ["B1"]),
            ("volunteer1", Role.volunteer, ["C1"]),
            ("partner1", Role.partner, ["C1"]),
        ]
        for name, role, scope in accounts:
            u = auth_service.create_user(
                s,
                SYSTEM,
                username=name,
                password=PASSWORD,
                role=role,
                display_name=name,
                scope_unit_ids=[w.units[k] for k in scope],
            )
            w.users[name] = u.id
        u = auth_service.create_user(
            s,
            SYSTEM,
            username="resident1",
            password=PASSWORD,
            role=Role.resident,
            display_name="王小明",
            resident_id=w.residents["wangxm"],
        )
        w.users["resident1"] = u.id
    return w
