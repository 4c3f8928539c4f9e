"""Shared set-up of the closed-loop tests: the small world with accounts on its chain, outlines
on its units, and helpers to submit and act. (Also checks the seed data of migration 0002.)

Map of the outlines given here (lon × lat, WGS-84)::

    street S   118.70–118.90 × 32.00–32.10
    C1 = P1    118.78–118.80 × 32.05–32.07      C2 = P2 = A3  118.80–118.82 × 32.05–32.07
    A1         118.78–118.79                    A2            118.79–118.80
    B1  ±0.001 around (118.785, 32.060)         B2 around (118.795, 32.060)    B3 around (118.810, 32.060)
"""

import importlib.util
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text, update

from renxing import migrate
from renxing.auth import service as auth_service
from renxing.auth.models import User
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM, Principal
from renxing.config import get_settings
from renxing.db import transaction
from renxing.events import defaults, service
from renxing.events.defaults import install_defaults
from renxing.events.models import EventCategory, Report, ReportEvent, ReportTransition
from renxing.events.schemas import ReportIn
from renxing.grid.models import GridUnit, Responsibility
from renxing.notify.models import Notification
from tests.factories import PASSWORD, World, build_world

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
            report = service.submit_report(s, actor, ReportIn(**data), channel=channel, photos=list(photos), now=now)
            return report.id

    def act(self, username: str, report_id: int, action: str, now=None, photo=None, **data):
        actor = SYSTEM if username == "system" else self.principal(username)
        with transaction(self.engine) as s:
            service.perform(s, actor, report_id, action, data, photo=photo, now=now)

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


@pytest.fixture(name="media")
def media_fixture(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "media_dir", str(tmp_path / "media"))
    monkeypatch.setattr(get_settings(), "notify_channels", "log")
    return tmp_path / "media"


@pytest.fixture(name="ev")
def ev_fixture(engine, media) -> Ev:
    # The engine fixture empties every table, the seed rows of migration 0002 too.
    with transaction(engine) as s:
        install_defaults(s)
    w = build_world(engine)
    link_chain(engine, w)
    draw_outlines(engine, w)
    return Ev(engine, w)


def later(minutes: float = 0, *, days: float = 0, start: datetime = T0) -> datetime:
    return start + timedelta(minutes=minutes, days=days)


# ---- the seed data of migration 0002 --------------------------------------------------------


def test_every_database_has_the_categories_and_state_machine(engine):
    migrate.downgrade(engine, "0001")
    migrate.upgrade(engine)  # migration 0002 seeds them
    with transaction(engine) as s:
        codes = set(s.scalars(select(EventCategory.code)))
        transitions = {(t.from_state, t.action): t.to_state for t in s.scalars(select(ReportTransition))}
        zh = set(s.scalars(select(EventCategory.name_zh)))
        assert install_defaults(s) == 0  # nothing missing
    assert len(codes) == 13
    assert {"消防隐患", "积水内涝", "房屋安全", "燃气", "用电", "高空坠物", "公共卫生", "治安", "矛盾纠纷"} <= zh
    assert {"困难求助", "环境卫生", "设施损坏", "其他"} <= zh
    assert transitions[("assigned", "accept")] == "accepted"
    assert transitions[("accepted", "check_in")] == "on_site"
    assert transitions[("on_site", "resolve")] == "resolved"
    assert transitions[("resolved", "feedback")] == "closed"
    assert ("assigned", "resolve") not in transitions


def test_the_migrations_frozen_seed_equals_the_defaults():
    path = Path(migrate.MIGRATIONS) / "versions" / "0002_events.py"
    spec = importlib.util.spec_from_file_location("migration_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("CATEGORIES", "DEADLINES", "STATES", "TRANSITIONS", "RULES"):
        assert getattr(module, name) == getattr(defaults, name), name


def test_outlines_are_geojson(engine):
    w = build_world(engine)
    draw_outlines(engine, w)
    with transaction(engine) as s:
        geometry = s.scalar(select(GridUnit.geometry).where(GridUnit.id == w.units["B1"]))
    assert json.loads(geometry)["type"] == "Polygon"
