"""The seed data of migration 0002 (categories, deadlines, the state machine, routing rules) on
every database, the same as the defaults the code installs; the outlines the ``ev`` world draws."""

import importlib.util
import json
from pathlib import Path

from sqlalchemy import select

from renxing import migrate
from renxing.db import transaction
from renxing.events import defaults
from renxing.events.defaults import install_defaults
from renxing.events.models import EventCategory, ReportTransition
from renxing.grid.models import GridUnit
from tests.kit.events_world import draw_outlines
from tests.kit.factories import build_world


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
