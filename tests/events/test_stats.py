"""Dashboard numbers on a hand-made set, the pure metric functions, routing and deadlines."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renxing.db import transaction
from renxing.events import deadlines, metrics, routing, stats
from renxing.events.deadlines import Minutes, Rung
from renxing.events.policy import State
from renxing.geo import outlines, sphere
from tests.kit.client import login
from tests.kit.events_world import T0, later

SITE = {"lat": 32.06, "long": 118.785}


def handle(ev, rid, accept, on_site=None, resolve=None, rating=None):
    ev.act("gridworker1", rid, "accept", now=later(accept))
    if on_site is not None:
        ev.act("gridworker1", rid, "check_in", now=later(on_site), **SITE)
    if resolve is not None:
        ev.act("gridworker1", rid, "resolve", note="done", now=later(resolve))
    if rating is not None:
        ev.act("resident1", rid, "feedback", solved=True, rating=rating, now=later(resolve + 100))


@pytest.fixture
def handmade(ev):
    r1 = ev.submit("resident1")
    r5 = ev.submit("resident1")
    ev.act("gridworker1", r5, "merge", into_report_id=r1, now=later(3))  # counted in r1, not again
    handle(ev, r1, 10, 40, 100, rating=5)
    r2 = ev.submit("resident1")
    handle(ev, r2, 50, 150, 300, rating=3)  # accepted and on site late
    r3 = ev.submit("resident1", category="sanitation")
    handle(ev, r3, 20)  # still being handled, within its (low) deadlines
    r4 = ev.submit("resident1", category="gas")
    ev.act("gridworker1", r4, "reject", reason="非燃气问题", now=later(5))
    return ev


def test_stats_on_a_hand_made_set(handmade):
    ev = handmade
    with transaction(ev.engine) as s:
        got = stats.stats(s, ev.principal("secretary"), group_by="category", now=later(days=1))
    total = got["total"]
    assert total["count"] == 4 and total["open"] == 1
    assert total["by_state"] == {"closed": 2, "accepted": 1, "rejected": 1}
    assert total["minutes_to_accept"] == {"median": 20.0, "p90": 44.0, "n": 3}
    assert total["minutes_to_on_site"] == {"median": 95.0, "p90": 139.0, "n": 2}
    assert total["minutes_to_resolve"] == {"median": 200.0, "p90": 280.0, "n": 2}
    assert (total["overdue"], total["overdue_rate"]) == (1, 0.25)
    assert (total["closed_with_feedback"], total["closed_loop_rate"]) == (2, 0.5)
    assert total["satisfaction"] == 4.0
    groups = {g["key"]: g for g in got["groups"]}
    assert {k: g["count"] for k, g in groups.items()} == {"fire_hazard": 2, "gas": 1, "sanitation": 1}
    assert groups["fire_hazard"]["label"] == "消防隐患" and groups["fire_hazard"]["closed_loop_rate"] == 1.0


def test_stats_by_unit_handler_and_month_over_the_api(handmade, client):
    ev = handmade
    h = login(client, "secretary")
    by_unit = client.get("/api/v1/reports/stats?group_by=unit&level=area", headers=h).json()
    assert [(g["label"], g["count"]) for g in by_unit["groups"]] == [("一片区", 4)]
    by_handler = client.get("/api/v1/reports/stats?group_by=handler", headers=h).json()
    assert [g["key"] for g in by_handler["groups"]] == [ev.uid("gridworker1")]
    by_month = client.get("/api/v1/reports/stats?group_by=month&since=2025-03-01&until=2025-04-01", headers=h).json()
    assert [(g["key"], g["count"]) for g in by_month["groups"]] == [("2025-03", 4)]
    none = client.get("/api/v1/reports/stats?group_by=month&since=2025-04-01", headers=h).json()
    assert none["total"]["count"] == 0 and none["total"]["overdue_rate"] is None
    assert client.get("/api/v1/reports/stats?group_by=colour", headers=h).status_code == 422
    assert client.get("/api/v1/reports/stats", headers=login(client, "staff2")).json()["total"]["count"] == 0
    spots = client.get("/api/v1/reports/hotspots", headers=h).json()
    assert [(s["count"], s["open"]) for s in spots] == [(4, 1)]
    assert spots[0]["categories"] == {"fire_hazard": 2, "sanitation": 1, "gas": 1}


# ---- pure modules ---------------------------------------------------------------------------


def test_quantile_matches_linear_interpolation():
    assert metrics.quantile([], 0.5) is None
    assert metrics.quantile([7], 0.9) == 7
    assert metrics.quantile([10, 20, 50], 0.9) == pytest.approx(44.0)
    assert metrics.quantile([1, 2, 3, 4], 0.5) == 2.5


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=50), st.floats(0, 1))
def test_quantile_lies_within_the_data(values, q):
    x = metrics.quantile(values, q)
    assert min(values) - 1e-6 <= x <= max(values) + 1e-6


def test_deadlines_and_the_next_look():
    m = Minutes(30, 120, 1440)
    da, do, dr = deadlines.due_times(T0, m)
    assert (da - T0, do - T0, dr - T0) == (timedelta(minutes=30), timedelta(hours=2), timedelta(days=1))
    kw = dict(due_accept=da, due_on_site=do, due_resolve=dr)
    assert deadlines.next_due(State.assigned, later(5), m, **kw) == da
    assert deadlines.next_due(State.assigned, later(45), m, **kw) == later(75)  # late: one step's grace
    assert deadlines.next_due(State.accepted, later(45), m, **kw) == do
    assert deadlines.next_due(State.resolved, later(45), m, resolved_at=later(40), **kw) == later(40, days=7)
    assert deadlines.next_due(State.closed, later(45), m, **kw) is None
    ladder = [Rung(2, "party_group_leader", "x", 1), Rung(5, "secretary", "y", None)]
    assert deadlines.next_rung(ladder, 0).level == 2
    assert deadlines.next_rung(ladder, 2).level == 5
    assert deadlines.next_rung(ladder, 5) is None


def test_routing_from_plain_data():
    place = routing.Place("fire_hazard", "building", "/1/2/4/6/9/", 9)
    holders = [
        routing.Holder("party_group_leader", "钱组长", None, "1栋"),
        routing.Holder("grid_worker", "孙网格", 7, "一片区"),
        routing.Holder("secretary", "周书记", 3, "阳光社区"),
    ]
    rules = [
        routing.Rule(1, None, None, None, "duty", "grid_worker", priority=100),
        routing.Rule(2, "fire_hazard", None, "/1/2/", "duty", "party_group_leader", priority=10),
        routing.Rule(3, "gas", None, None, "partner", org_name="燃气公司", priority=1),
    ]
    d = routing.route(place, rules, holders, [])
    assert (d.user_id, d.rule_id) == (7, 1)
    assert "规则 #2 跳过" in d.steps[0] and "无账号" in d.steps[0]
    d = routing.route(routing.Place("gas", "building", "/1/2/4/6/9/", 9), rules, holders, [])
    assert (d.user_id, d.kind, d.rule_id) == (7, "partner", 3) and d.label.startswith("燃气公司")
    d = routing.route(place, [], holders[:1], [routing.Staff(11, "社区工作者 某")])
    assert d.user_id == 11
    assert routing.route(place, [], [], []).user_id is None


def test_geo_index_picks_the_deepest_unit_and_refuses_outside():
    def sq(x0, y0, x1, y1):
        return f'{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}'

    index = outlines.GeoIndex(
        [
            outlines.UnitShape(1, "street", "/1/", sq(0, 0, 10, 10)),
            outlines.UnitShape(2, "community", "/1/2/", sq(0, 0, 5, 5)),
            outlines.UnitShape(3, "building", "/1/2/3/", sq(1, 1, 2, 2)),
            outlines.UnitShape(4, "area", "/1/2/4/", '{"type": "Feature", "geometry": null}'),
        ],
        [outlines.UnitPoint(3, "/1/2/3/", 1.5, 1.5)],
    )
    assert index.locate(1.5, 1.5).unit_id == 3
    assert index.locate(4, 4).unit_id == 2
    assert index.locate(8, 8) is None  # in the street only
    assert sphere.haversine_m(118.785, 32.06, 118.785, 32.061) == pytest.approx(111.2, abs=0.2)
    assert not sphere.valid_point(200, 10) and sphere.valid_point(118.0, 32.0)
