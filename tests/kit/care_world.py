"""Volunteer teams and carers on the test world, for the care tests and the pages that show them."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from renxing.auth.principal import SYSTEM
from renxing.care.models import CarePlan
from renxing.db import transaction
from renxing.volunteers import members, teams


@dataclass
class CareWorld:
    silver: int
    medical: int
    patrol: int
    nurse: int  # 赵强 (B2), valid nursing certificate, max_care 1, account volunteer1
    helper: int  # 王小明 (B1), no skills, max_care 2
    expired: int  # from outside, nursing certificate expired yesterday
    patroller: int  # from outside, in a third team


def care_world(engine, w) -> CareWorld:
    today = date.today()
    with transaction(engine) as s:
        silver = teams.create_team(s, SYSTEM, unit_id=w.units["C1"], name="银发互助队", kind="silver_mutual_aid")
        medical = teams.create_team(s, SYSTEM, unit_id=w.units["C1"], name="医疗服务队", kind="medical")
        patrol = teams.create_team(s, SYSTEM, unit_id=w.units["C1"], name="治安巡逻队", kind="security_patrol")
        nurse = members.add_member(
            s,
            SYSTEM,
            medical.id,
            resident_id=w.residents["zhao"],
            user_id=w.users["volunteer1"],
            role="leader",
            max_care=1,
            skills=[
                {
                    "skill": "nursing",
                    "certificate_no": "HS-001",
                    "issued_on": date(2023, 1, 1),
                    "expires_on": today + timedelta(days=400),
                }
            ],
        )
        helper = members.add_member(s, SYSTEM, silver.id, resident_id=w.residents["wangxm"], max_care=2)
        expired = members.add_member(
            s,
            SYSTEM,
            silver.id,
            name="钱护士",
            phone="13900001111",
            lon=118.79,
            lat=32.06,
            skills=[{"skill": "nursing", "issued_on": date(2020, 1, 1), "expires_on": today - timedelta(days=1)}],
        )
        patroller = members.add_member(s, SYSTEM, patrol.id, name="孙巡逻", lon=118.79, lat=32.06, max_care=5)
        return CareWorld(silver.id, medical.id, patrol.id, nurse.id, helper.id, expired.id, patroller.id)


def plan_of(engine, resident_id: int) -> int:
    with transaction(engine) as s:
        return s.scalar(select(CarePlan.id).where(CarePlan.resident_id == resident_id, CarePlan.status == "active"))
