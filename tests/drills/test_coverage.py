"""Rolling coverage: the pure roll-up over grid paths, and the service on a hand-made case."""

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from renxing.auth.principal import SYSTEM
from renxing.db import transaction, utcnow
from renxing.drills import coverage as cov
from renxing.drills import reach as service
from tests.kit.client import login
from tests.kit.drills_world import activity, attend

# ---- pure -------------------------------------------------------------------------------

UNITS = ["/1/", "/1/2/", "/1/2/4/", "/1/2/4/6/", "/1/2/4/7/", "/1/3/", "/1/3/5/", "/1/3/5/8/"]
LEAVES = ["/1/2/4/6/", "/1/2/4/7/", "/1/3/5/8/"]


def test_rollup_sums_each_subtree():
    r = cov.coverage(UNITS, LEAVES, [10, 4, 5], [9, 1, 5], [["/1/2/"], ["/1/2/4/6/"]], reach_target=0.9, lag_ratio=0.85)
    assert r.residents.tolist() == [19, 14, 14, 10, 4, 5, 5, 5]
    assert r.reached.tolist() == [15, 10, 10, 9, 1, 5, 5, 5]
    # 90 % of 10 is 9: met exactly; 90 % of 4 needs 4, one reached → 3 more.
    assert r.needed.tolist()[3:5] == [0, 3]
    assert r.standing[3] is cov.Standing.ok
    assert r.standing[4] is cov.Standing.lagging
    # Activity 1 is for community /1/2/, activity 2 for building 6: the street and /1/2/ see both,
    # building 7 only the first, community /1/3/ none.
    assert r.activities.tolist() == [2, 2, 2, 2, 1, 0, 0, 0]


def test_empty_unit_and_behind():
    r = cov.coverage(["/1/", "/1/9/"], ["/1/2/"], [100], [80], [], reach_target=0.9, lag_ratio=0.85)
    assert r.standing == [cov.Standing.behind, cov.Standing.empty]
    assert np.isnan(r.reach[1])


def test_outermost_drops_nested_targets():
    assert cov.outermost(["/1/2/4/", "/1/2/", "/1/3/"]) == ["/1/2/", "/1/3/"]
    # A building inside a targeted area is not counted twice.
    assert cov.activity_counts(["/1/", "/1/2/", "/1/2/4/"], [["/1/2/", "/1/2/4/"]]).tolist() == [1, 1, 1]


@given(st.lists(st.tuples(st.sampled_from(LEAVES), st.integers(0, 50), st.integers(0, 50)), max_size=20))
def test_rollup_matches_brute_force(rows):
    leaves = [p for p, _, _ in rows]
    residents = [n for _, n, _ in rows]
    reached = [min(k, n) for _, n, k in rows]
    (res,) = cov.subtree_sums(UNITS, leaves, residents)
    for i, u in enumerate(UNITS):
        assert res[i] == sum(n for p, n in zip(leaves, residents, strict=True) if p.startswith(u))
    r = cov.coverage(UNITS, leaves, residents, reached, [], reach_target=0.9, lag_ratio=0.85)
    assert (r.reached <= r.residents).all()


@given(st.lists(st.lists(st.sampled_from(UNITS), min_size=1, max_size=3), max_size=15))
def test_activity_counts_match_brute_force(targets):
    got = cov.activity_counts(UNITS, targets).tolist()
    for i, u in enumerate(UNITS):
        want = sum(1 for ts in targets if any(u.startswith(t) or t.startswith(u) for t in ts))
        assert got[i] == want


# ---- service on the test world -----------------------------------------------------------


@pytest.fixture
def reached_world(engine, world):
    now = utcnow()
    a1 = activity(engine, world, starts=now - timedelta(days=10), status="done")
    attend(engine, a1, world.residents["wang"], world.residents["zhao"])
    cancelled = activity(engine, world, starts=now - timedelta(days=20), status="cancelled")
    attend(engine, cancelled, world.residents["li"])
    old = activity(engine, world, starts=now - timedelta(days=400), status="done")
    attend(engine, old, world.residents["wangxm"])
    return world


def by_name(report):
    return {u["name"]: u for u in report["units"]}


def test_coverage_numbers_hand_made(engine, reached_world):
    w = reached_world
    with transaction(engine) as s:
        rep = service.coverage_report(s, SYSTEM, w.units["S"])
    units = by_name(rep)
    # Only the done activity inside the window counts: wang (1栋) and zhao (2栋).
    assert (units["1栋"]["residents"], units["1栋"]["reached"]) == (3, 1)
    assert (units["2栋"]["residents"], units["2栋"]["reached"]) == (1, 1)
    assert (units["阳光社区"]["residents"], units["阳光社区"]["reached"], units["阳光社区"]["reach"]) == (4, 2, 0.5)
    assert (units["和平社区"]["residents"], units["和平社区"]["reached"]) == (1, 0)
    assert rep["total"]["reached"] == 2 and rep["total"]["residents"] == 5
    assert units["阳光社区"]["activities"] == 1 and units["和平社区"]["activities"] == 0
    assert units["1栋"]["needed"] == 2  # ceil(0.9 × 3) − 1
    lagging = [u["name"] for u in rep["lagging"]]
    assert lagging[:2] == ["3栋", "1栋"] and "2栋" not in lagging


def test_not_reached_lists_vulnerable_first(engine, reached_world, client):
    w = reached_world
    headers = login(client, "secretary")
    r = client.get("/api/v1/drills/coverage/not-reached", params={"unit_id": w.units["C1"]}, headers=headers)
    assert r.status_code == 200, r.text
    names = [x["name"] for x in r.json()["items"]]
    # 李梅 (76, living alone) before 王小明; the reached residents are not listed.
    assert names == ["李梅", "王小明"]
    assert all("****" in x["phone"] for x in r.json()["items"])


def test_not_reached_scope_and_masking(engine, reached_world, client):
    w = reached_world
    # A street admin sees the list with names masked; a grid worker only their own area.
    r = client.get("/api/v1/drills/coverage/not-reached", headers=login(client, "street"))
    assert r.status_code == 200
    assert {x["name"] for x in r.json()["items"]} == {"李*", "王*明", "陈*"}
    r = client.get("/api/v1/drills/coverage/not-reached", headers=login(client, "gridworker1"))
    assert {x["name"] for x in r.json()["items"]} == {"李梅", "王小明"}
    r = client.get(
        "/api/v1/drills/coverage/not-reached", params={"unit_id": w.units["C2"]}, headers=login(client, "secretary")
    )
    assert r.status_code == 403
    r = client.get("/api/v1/drills/coverage/not-reached", headers=login(client, "volunteer1"))
    assert r.status_code == 403


def test_export_not_reached(engine, reached_world, client):
    from io import BytesIO

    from openpyxl import load_workbook

    r = client.get("/api/v1/drills/coverage/not-reached.xlsx", headers=login(client, "secretary"))
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:5] == ("姓名", "住址", "年龄", "重点人群", "联系电话")
    assert [row[0] for row in rows[1:]] == ["李梅", "王小明"]
    assert rows[1][4] == "13712345678"  # staff may call them
    # Street admins see no phones and may not export them.
    assert client.get("/api/v1/drills/coverage/not-reached.xlsx", headers=login(client, "street")).status_code == 403


def test_coverage_api_for_roles(engine, reached_world, client):
    w = reached_world
    r = client.get("/api/v1/drills/coverage", headers=login(client, "resident1"))
    assert r.status_code == 200
    assert r.json()["unit"]["name"] == "阳光社区" and r.json()["total"]["reach"] == 0.5
    r = client.get("/api/v1/drills/coverage", params={"unit_id": w.units["C2"]}, headers=login(client, "resident1"))
    assert r.status_code == 403
    r = client.get("/api/v1/drills/coverage", headers=login(client, "gridworker1"))
    assert r.json()["unit"]["name"] == "一片区"
    assert r.json()["total"]["residents"] == 3
    # The system administrator reads no community data.
    assert client.get("/api/v1/drills/coverage", headers=login(client, "admin")).status_code == 403
