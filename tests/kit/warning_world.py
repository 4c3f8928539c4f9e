"""The early-warning world (``warning_world(engine)``): the closed-loop world of ``events_world``
(chain linked, units outlined) with more households, some with vulnerable residents, and a second
staff member in 阳光社区 so that an orange or red warning can be approved by someone else.

Households and who lives there (★ vulnerable: the register flags them for a door-to-door check)::

    C1 阳光社区  B1 1栋 (118.785, 32.060)  H1 王建国 ★ (born 1940, chronic illness, oxygen), 王小明
                                           H2 李梅 ★ (born 1950, living alone)
                 B2 2栋 (118.795, 32.060)  H3 赵强
                                           H5 刘奶奶 ★ (born 1936, bedridden, no phone)
                                           H6 孙丽 (pregnant ★), 孙先生
                                           H7 (nobody registered: no phone)
    C2 和平社区  B3 3栋 (118.810, 32.060)  H4 陈芳 ★ (born 1938, bedridden)

Staff accounts: ``secretary`` and ``approver`` (community staff of C1), ``staff2`` (C2), ``street``
(street admin of S); ``gridworker1`` (A1), ``committee1`` (A1), ``leader1`` and ``member1`` (B1);
``resident1`` is 王小明 (H1), ``resident2`` is 赵强 (H3).

:func:`add_warning` writes a warning row directly (any status), for tests that need one without
going through composing and sending.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from renxing.auth import service as auth_service
from renxing.auth.models import User
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM, Principal
from renxing.db import transaction
from renxing.grid import service as grid
from renxing.grid.models import GridUnit
from renxing.people import service as people
from renxing.people.idcard import make_id_number
from renxing.people.schemas import ResidentIn
from renxing.warning.models import WarningMessage
from tests.kit.events_world import T0, box, build_ev
from tests.kit.factories import PASSWORD, World

# Drawn polygons (GeoJSON, WGS-84): one around building B1 only, one around B1 and B2 (all of C1).
AROUND_B1 = json.loads(box(118.783, 32.058, 118.787, 32.062))
AROUND_C1 = json.loads(box(118.779, 32.049, 118.801, 32.071))
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class WarningWorld:
    engine: Engine
    w: World

    @property
    def units(self) -> dict[str, int]:
        return self.w.units

    @property
    def households(self) -> dict[str, int]:
        return self.w.households

    @property
    def residents(self) -> dict[str, int]:
        return self.w.residents

    @property
    def users(self) -> dict[str, int]:
        return self.w.users

    def uid(self, username: str) -> int:
        return self.w.users[username]

    def principal(self, username: str) -> Principal:
        with transaction(self.engine) as s:
            user = s.scalar(select(User).where(User.username == username))
            return auth_service.principal_for(s, user)


def warning_world(engine: Engine) -> WarningWorld:
    ev = build_ev(engine)
    w = ev.w
    with transaction(engine) as s:
        for key, building, room in [("H5", "B2", "202"), ("H6", "B2", "302"), ("H7", "B2", "402")]:
            w.households[key] = grid.create_household(s, SYSTEM, building_id=w.units[building], unit_no=1, room=room).id
        rows = [
            ("liu", "H5", "刘奶奶", date(1936, 4, 4), "F", None, dict(relation="户主", bedridden=True)),
            ("sunli", "H6", "孙丽", date(1995, 5, 5), "F", "13312345678", dict(relation="户主", pregnant=True)),
            ("sun", "H6", "孙先生", date(1993, 3, 3), "M", "13212345678", dict(relation="配偶")),
        ]
        for i, (key, household, name, born, gender, phone, extra) in enumerate(rows):
            r = people.create_resident(
                s,
                SYSTEM,
                ResidentIn(
                    household_id=w.households[household],
                    name=name,
                    id_number=make_id_number("320102", born, 300 + i, gender),
                    phone=phone,
                    **extra,
                ),
            )
            w.residents[key] = r.id
        user = auth_service.create_user(
            s,
            SYSTEM,
            username="approver",
            password=PASSWORD,
            role=Role.community_staff,
            display_name="approver",
            scope_unit_ids=[w.units["C1"]],
        )
        w.users["approver"] = user.id
    return WarningWorld(engine, w)


def add_warning(
    ww: WarningWorld,
    *,
    unit: str = "C1",
    level: str = "orange",
    status: str = "sent",
    polygon: dict | None = None,
    channels: tuple[str, ...] = ("in_app", "sms"),
    exercise: bool = False,
    public: bool = True,
    by: str = "secretary",
    sent_at: datetime = T0,
    headline: str = "暴雨橙色预警",
    msg_type: str = "Alert",
    references_id: int | None = None,
) -> int:
    """A warning row as the sending service leaves it (without CAP XML), for tests of what follows."""
    with transaction(ww.engine) as s:
        target = s.get(GridUnit, ww.units[unit])
        sent = status == "sent"
        row = WarningMessage(
            identifier=f"RX-TEST-{uuid.uuid4().hex[:12]}",
            msg_type=msg_type,
            references_id=references_id,
            status=status,
            exercise=exercise,
            level=level,
            event="暴雨内涝",
            category="Met",
            headline=headline,
            description="预计未来6小时内有大暴雨，低洼地带可能积水。",
            instruction="请远离低洼地带，转移地下室物品。",
            unit_id=target.id,
            path=target.path,
            polygon=json.dumps(polygon) if polygon else None,
            area_desc=target.name,
            effective=sent_at,
            expires=sent_at + timedelta(hours=12),
            channels=list(channels),
            public=public,
            created_by=ww.uid(by),
            created_at=sent_at - timedelta(minutes=5),
            sent_at=sent_at if sent else None,
            sent_text=sent_at.astimezone(SHANGHAI).isoformat(timespec="seconds") if sent else None,
        )
        s.add(row)
        s.flush()
        return row.id
