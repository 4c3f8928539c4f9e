"""The closed-loop world (the ``ev`` fixture): the small world with accounts on its chain, outlines
on its units, helpers to submit and act, and a small photo to attach.

Map of the outlines given here (lon × lat, WGS-84)::

    street S   118.70–118.90 × 32.00–32.10
    C1 = P1    118.78–118.80 × 32.05–32.07      C2 = P2 = A3  118.80–118.82 × 32.05–32.07
    A1         118.78–118.79                    A2            118.79–118.80
    B1  ±0.001 around (118.785, 32.060)         B2 around (118.795, 32.060)    B3 around (118.810, 32.060)
"""

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlalchemy import Engine, func, select, text, update

from renxing.auth import service as auth_service
from renxing.auth.models import User
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM, Principal
from renxing.db import transaction
from renxing.events import actions, intake
from renxing.events.models import Report, ReportEvent
from renxing.events.schemas import ReportIn
from renxing.grid.models import Responsibility
from renxing.notify.models import Notification
from tests.kit.factories import PASSWORD, World, build_world

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> str:
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


OUTLINES = {
    "S": (box(118.70, 32.00, 118.90, 32.10), 118.80, 32.05),
    "C1": (box(118.78, 32.05, 118.80, 32.07), 118.79, 32.06),
    "P1": (box(118.78, 32.05, 118.80, 32.07), 118.79, 32.06),
    "A1": (box(118.78, 32.05, 118.79, 32.07), 118.785, 32.06),
    "A2": (box(118.79, 32.05, 118.80, 32.07), 118.795, 32.06),
    "C2": (box(118.80, 32.05, 118.82, 32.07), 118.81, 32.06),
    "P2": (box(118.80, 32.05, 118.82, 32.07), 118.81, 32.06),
    "A3": (box(118.80, 32.05, 118.82, 32.07), 118.81, 32.06),
    "B1": (box(118.784, 32.059, 118.786, 32.061), 118.785, 32.060),
    "B2": (box(118.794, 32.059, 118.796, 32.061), 118.795, 32.060),
    "B3": (box(118.809, 32.059, 118.811, 32.061), 118.810, 32.060),
}


@dataclass
class Ev:
    engine: Engine
    w: World

    def principal(self, username: str) -> Principal:
        with transaction(self.engine) as s:
            user = s.scalar(select(User).where(User.username == username))
            return auth_service.principal_for(s, user)

    def uid(self, username: str) -> int:
        return self.w.users[username]

    def submit(self, username: str | None = "resident1", *, channel="resident_app", photos=(), now=T0, **data):
        data.setdefault("category", "fire_hazard")
        data.setdefault("description", "楼道堆放杂物 / clutter in the stairwell")
        if not {"unit_id", "household_id", "lat", "long"} & set(data):
            data["unit_id"] = self.w.units["B1"]
        actor = SYSTEM if username is None else self.principal(username)
        with transaction(self.engine) as s:
            report = intake.submit_report(s, actor, ReportIn(**data), channel=channel, photos=list(photos), now=now)
            return report.id

    def act(self, username: str, report_id: int, action: str, now=None, photo=None, **data):
        actor = SYSTEM if username == "system" else self.principal(username)
        with transaction(self.engine) as s:
            actions.perform(s, actor, report_id, action, data, photo=photo, now=now)

    def report(self, report_id: int) -> Report:
        with transaction(self.engine) as s:
            return s.get(Report, report_id)

    def events(self, report_id: int) -> list[ReportEvent]:
        with transaction(self.engine) as s:
            return list(
                s.scalars(select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id))
            )

    def inbox(self, username: str) -> list[Notification]:
        with transaction(self.engine) as s:
            return list(
                s.scalars(
                    select(Notification).where(Notification.user_id == self.uid(username)).order_by(Notification.id)
                )
            )

    def count(self, model) -> int:
        with transaction(self.engine) as s:
            return s.scalar(select(func.count()).select_from(model)) or 0


def link_chain(engine: Engine, w: World) -> None:
    """Accounts for the people of the chain above H1 (the world leaves them without)."""
    with transaction(engine) as s:
        for username, role, scope in [
            ("member1", Role.building_leader, "B1"),
            ("committee1", Role.grid_worker, "A1"),
            ("branchsec1", Role.community_staff, "P1"),
        ]:
            user = auth_service.create_user(
                s,
                SYSTEM,
                username=username,
                password=PASSWORD,
                role=role,
                display_name=username,
                scope_unit_ids=[w.units[scope]],
            )
            w.users[username] = user.id
        zhao = auth_service.create_user(
            s,
            SYSTEM,
            username="resident2",
            password=PASSWORD,
            role=Role.resident,
            display_name="赵强",
            resident_id=w.residents["zhao"],
        )
        w.users["resident2"] = zhao.id
        for person, username in [
            ("孙网格", "gridworker1"),
            ("钱组长", "leader1"),
            ("冯党员", "member1"),
            ("郑委员", "committee1"),
            ("吴支书", "branchsec1"),
            ("周书记", "secretary"),
        ]:
            s.execute(
                update(Responsibility).where(Responsibility.person_name == person).values(user_id=w.users[username])
            )
        s.execute(update(User).where(User.username == "resident1").values(phone="13912345678"))


def draw_outlines(engine: Engine, w: World) -> None:
    with engine.begin() as conn:
        for key, (geometry, lon, lat) in OUTLINES.items():
            conn.execute(
                text("UPDATE grid_units SET geometry = :g, lon = :lon, lat = :lat WHERE id = :id"),
                {"g": geometry, "lon": lon, "lat": lat, "id": w.units[key]},
            )


def later(minutes: float = 0, *, days: float = 0, start: datetime = T0) -> datetime:
    return start + timedelta(minutes=minutes, days=days)


def build_ev(engine: Engine) -> Ev:
    """The world with its chain linked and its units outlined."""
    w = build_world(engine)
    link_chain(engine, w)
    draw_outlines(engine, w)
    return Ev(engine, w)


def png(color=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(out, format="PNG")
    return out.getvalue()
