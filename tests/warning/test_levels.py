"""The colour → CAP table: read by those who read warnings, changed by street admins only, CAP
enumerations only; a changed table changes what is sent."""

from datetime import UTC, datetime

import pytest

from renxing.db import transaction
from renxing.errors import Forbidden
from renxing.warning import approving, cap_schema, composing, levels
from renxing.warning.defaults import LEVELS
from renxing.warning.schemas import LevelPatch, WarningIn
from tests.kit.client import login
from tests.kit.warning_world import warning_world

NS = {"cap": cap_schema.NS}


@pytest.fixture
def ww(engine):
    return warning_world(engine)


def test_the_default_table_is_read_in_rank_order(client, ww):
    r = client.get("/api/v1/warning/levels", headers=login(client, "gridworker1"))
    assert r.status_code == 200
    rows = r.json()
    assert [(x["code"], x["severity"], x["urgency"], x["needs_approval"]) for x in rows] == [
        (code, severity, urgency, approval) for code, _, _, _, severity, urgency, _, approval, _ in LEVELS
    ]
    assert client.get("/api/v1/warning/levels", headers=login(client, "resident1")).status_code == 403


def test_street_admins_change_it_with_cap_values_only(client, ww):
    street = login(client, "street")
    r = client.patch("/api/v1/warning/levels/yellow", json={"needs_approval": True, "step_minutes": 20}, headers=street)
    assert r.status_code == 200 and r.json()["needs_approval"] is True and r.json()["updated_at"]
    r = client.patch("/api/v1/warning/levels/yellow", json={"urgency": "Soon"}, headers=street)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("urgency")
    r = client.patch("/api/v1/warning/levels/yellow", json={"step_minutes": 0}, headers=street)
    assert r.status_code == 422
    assert client.patch("/api/v1/warning/levels/purple", json={}, headers=street).status_code == 404
    r = client.patch("/api/v1/warning/levels/blue", json={"severity": "Minor"}, headers=login(client, "secretary"))
    assert r.status_code == 403
    with pytest.raises(Forbidden), transaction(ww.engine) as s:
        levels.update_level(s, ww.principal("secretary"), "red", LevelPatch(needs_approval=False))


def test_what_is_sent_follows_the_table(ww):
    with transaction(ww.engine) as s:
        levels.update_level(s, ww.principal("street"), "blue", LevelPatch(severity="Moderate", urgency="Immediate"))
    data = WarningIn(
        unit_id=ww.units["C1"], level="blue", event="大风", headline="大风蓝色预警", description="阵风8级。"
    )
    with transaction(ww.engine) as s:
        w = composing.compose(s, ww.principal("secretary"), data)
        approving.send(s, ww.principal("secretary"), w.id, now=datetime(2025, 1, 1, tzinfo=UTC))
        root = cap_schema.parse_valid(w.cap_xml.encode())
    assert root.findtext("cap:info/cap:severity", namespaces=NS) == "Moderate"
    assert root.findtext("cap:info/cap:urgency", namespaces=NS) == "Immediate"
