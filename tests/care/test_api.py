"""定点关怀 over the API on both databases: proposal and assignment in one action, bad input,
who sees which care list, masked health needs, visits that raise reports, overdue lists, coverage."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from renxing.auth.models import AuditEntry
from renxing.care import rules
from renxing.care.models import CareAssignment, CarePlan, CareVisit
from renxing.db import transaction
from renxing.events.models import Report
from tests.kit.care_world import care_world, plan_of
from tests.kit.client import login


def count(engine, model) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def assign(client, headers, pairs, status=201):
    r = client.post("/api/v1/care/assignments", json={"pairs": pairs}, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def test_propose_then_assign_all_in_one_action(client, engine, world):
    cw = care_world(engine, world)
    h = login(client, "secretary")
    r = client.get("/api/v1/care/uncovered", params={"unit_id": world.units["C1"]}, headers=h)
    assert r.status_code == 200, r.text
    assert {x["name"] for x in r.json()} == {"王建国", "李梅"}  # C2's 陈芳 is outside the scope
    r = client.post("/api/v1/care/proposals", json={"unit_id": world.units["C1"]}, headers=h)
    assert r.status_code == 200, r.text
    prop = r.json()
    assert prop["covered"] == 2 and prop["uncovered"] == []
    by_name = {p["resident"]["name"]: p for p in prop["pairs"]}
    # Oxygen calls for nursing: only the nurse with a valid certificate qualifies.
    assert by_name["王建国"]["carer"] == f"m{cw.nurse}"
    assert "护理" in by_name["王建国"]["explanation"]
    assert by_name["李梅"]["carer"] != f"m{cw.nurse}"
    pairs = [
        {"resident_id": p["resident"]["id"], "carer": p["carer"], "reason": p["explanation"]} for p in prop["pairs"]
    ]
    out = assign(client, h, pairs)
    assert out["assigned"] == 2
    r = client.get("/api/v1/care/uncovered", params={"unit_id": world.units["C1"]}, headers=h)
    assert r.json() == []
    with transaction(engine) as s:
        plan = s.scalar(select(CarePlan).where(CarePlan.resident_id == world.residents["wang"]))
        assert plan.frequency_days == rules.OXYGEN_DIALYSIS_DAYS and plan.needs == "nursing"
        audited = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "care_assignment"))
        assert audited == 2
    # A second proposal finds nothing left to do.
    r = client.post("/api/v1/care/proposals", json={"unit_id": world.units["C1"]}, headers=h)
    assert r.json()["total"] == 0


def test_over_limit_is_refused_and_nothing_written(client, engine, world):
    cw = care_world(engine, world)
    h = login(client, "secretary")
    pairs = [
        {"resident_id": world.residents["wang"], "carer": f"m{cw.nurse}"},
        {"resident_id": world.residents["li"], "carer": f"m{cw.nurse}"},  # max_care is 1
    ]
    r = client.post("/api/v1/care/assignments", json={"pairs": pairs}, headers=h)
    assert r.status_code == 422, r.text
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"pairs[1].carer"}
    assert count(engine, CarePlan) == 0 and count(engine, CareAssignment) == 0


def test_missing_or_expired_skill_is_refused(client, engine, world):
    cw = care_world(engine, world)
    h = login(client, "secretary")
    for carer in (f"m{cw.helper}", f"m{cw.expired}"):
        r = client.post(
            "/api/v1/care/assignments",
            params={"lang": "en"},
            json={"pairs": [{"resident_id": world.residents["wang"], "carer": carer}]},
            headers=h,
        )
        assert r.status_code == 422, r.text
        err = r.json()["errors"][0]
        assert err["field"] == "pairs[0].carer" and "lacks the needed skill: nursing" in err["message"]
    bad = client.post(
        "/api/v1/care/assignments",
        json={"pairs": [{"resident_id": world.residents["li"], "carer": "x12"}]},
        headers=h,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "pairs[0].carer"
    not_vulnerable = client.post(
        "/api/v1/care/assignments",
        json={"pairs": [{"resident_id": world.residents["wangxm"], "carer": f"m{cw.helper}"}]},
        headers=h,
    )
    assert not_vulnerable.status_code == 422
    assert not_vulnerable.json()["errors"][0]["field"] == "pairs[0].resident_id"
    assert count(engine, CarePlan) == 0


def test_assigning_twice_or_out_of_scope(client, engine, world):
    cw = care_world(engine, world)
    h = login(client, "secretary")
    assign(client, h, [{"resident_id": world.residents["li"], "carer": f"m{cw.helper}"}])
    again = client.post(
        "/api/v1/care/assignments",
        json={"pairs": [{"resident_id": world.residents["li"], "carer": f"m{cw.patroller}"}]},
        headers=h,
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "pairs[0].resident_id"
    # 陈芳 lives in C2: for C1's secretary she does not exist.
    other = client.post(
        "/api/v1/care/assignments",
        json={"pairs": [{"resident_id": world.residents["chen"], "carer": f"m{cw.helper}"}]},
        headers=h,
    )
    assert other.status_code == 404
    # A grid worker may care for a resident of their own area only.
    gw = world.users["gridworker1"]
    staff2 = login(client, "staff2")
    far = client.post(
        "/api/v1/care/assignments",
        json={"pairs": [{"resident_id": world.residents["chen"], "carer": f"u{gw}"}]},
        headers=staff2,
    )
    assert far.status_code == 422 and far.json()["errors"][0]["field"] == "pairs[0].carer"
    near = assign(client, h, [{"resident_id": world.residents["wang"], "carer": f"u{gw}"}], status=422)
    assert "缺少所需技能：护理" in near["errors"][0]["message"]  # a grid worker holds no nursing certificate


def test_volunteer_sees_only_their_care_list_with_health_masked(client, engine, world):
    cw = care_world(engine, world)
    sec = login(client, "secretary")
    assign(
        client,
        sec,
        [
            {"resident_id": world.residents["wang"], "carer": f"m{cw.nurse}"},
            {"resident_id": world.residents["li"], "carer": f"m{cw.helper}"},
        ],
    )
    wang_plan, li_plan = plan_of(engine, world.residents["wang"]), plan_of(engine, world.residents["li"])
    v = login(client, "volunteer1")
    mine = client.get("/api/v1/care/mine", headers=v).json()
    assert [p["resident"]["name"] for p in mine["items"]] == ["王建国"]
    resident = mine["items"][0]["resident"]
    assert resident["needs"] == ["***"] and resident["masked"]
    assert "special_needs" not in resident["kinds"] and "aged80" in resident["kinds"]
    assert client.get("/api/v1/care/plans", headers=v).json()["total"] == 1
    assert client.get(f"/api/v1/care/plans/{li_plan}", headers=v).status_code == 404
    assert client.get(f"/api/v1/care/plans/{wang_plan}", headers=v).status_code == 200
    assert client.get("/api/v1/care/uncovered", params={"unit_id": world.units["C1"]}, headers=v).status_code == 403
    # Staff see the needs in the clear, and that read is audited.
    with transaction(engine) as s:
        before = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "read_personal", AuditEntry.entity_id == world.residents["wang"])
        )
    detail = client.get(f"/api/v1/care/plans/{wang_plan}", headers=sec).json()
    assert detail["resident"]["needs"] == ["nursing"] and "special_needs" in detail["resident"]["kinds"]
    with transaction(engine) as s:
        after = s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "read_personal", AuditEntry.entity_id == world.residents["wang"])
        )
    assert after == before + 1


def test_scope_and_roles(client, engine, world):
    cw = care_world(engine, world)
    sec = login(client, "secretary")
    assign(client, sec, [{"resident_id": world.residents["li"], "carer": f"m{cw.helper}"}])
    li_plan = plan_of(engine, world.residents["li"])
    staff2 = login(client, "staff2")
    assert client.get(f"/api/v1/care/plans/{li_plan}", headers=staff2).status_code == 404
    assert client.post(f"/api/v1/care/plans/{li_plan}/visits", json={}, headers=staff2).status_code == 404
    leader = login(client, "leader1")  # reads their building (B1), writes nothing
    assert client.get(f"/api/v1/care/plans/{li_plan}", headers=leader).status_code == 200
    r = client.post("/api/v1/care/plans", json={"resident_id": world.residents["wang"]}, headers=leader)
    assert r.status_code == 403
    street = login(client, "street")
    assert client.get("/api/v1/care/plans", headers=street).status_code == 403
    agg = client.get("/api/v1/care/coverage", params={"unit_id": world.units["S"]}, headers=street)
    assert agg.status_code == 200, agg.text
    body = agg.json()
    assert body["total"]["vulnerable"] == 3 and body["total"]["covered"] == 1
    assert body["uncovered"] == 2  # a count: no names for aggregates
    assert all(c["name"] is None for c in body["carers"])
    resident = login(client, "resident1")
    assert client.get("/api/v1/care/plans", headers=resident).status_code == 403


def test_visit_with_problem_raises_a_report(client, engine, world):
    cw = care_world(engine, world)
    assign(client, login(client, "secretary"), [{"resident_id": world.residents["wang"], "carer": f"m{cw.nurse}"}])
    plan = plan_of(engine, world.residents["wang"])
    v = login(client, "volunteer1")
    r = client.post(
        f"/api/v1/care/plans/{plan}/visits",
        json={"found": "problem", "problem_category": "health", "note": "氧气瓶快用完了", "raise_report": True},
        headers=v,
    )
    assert r.status_code == 201, r.text
    visit = r.json()
    assert visit["report_id"] is not None and visit["member_id"] == cw.nurse
    with transaction(engine) as s:
        rep = s.get(Report, visit["report_id"])
        assert rep.category_code == "needs_help"
        assert rep.household_id == world.households["H1"]
        assert "氧气瓶" in rep.description
    # A problem recorded first and raised later, with one action; never twice.
    r = client.post(
        f"/api/v1/care/plans/{plan}/visits",
        json={"found": "problem", "problem_category": "living", "note": "水管漏水"},
        headers=v,
    )
    vid = r.json()["id"]
    assert r.json()["report_id"] is None
    raised = client.post(f"/api/v1/care/visits/{vid}/raise", headers=v)
    assert raised.status_code == 200 and raised.json()["report_id"] is not None
    assert client.post(f"/api/v1/care/visits/{vid}/raise", headers=v).status_code == 422
    assert count(engine, Report) == 2


def test_a_retried_visit_with_its_key_records_and_raises_once(client, engine, world):
    cw = care_world(engine, world)
    assign(client, login(client, "secretary"), [{"resident_id": world.residents["wang"], "carer": f"m{cw.nurse}"}])
    plan = plan_of(engine, world.residents["wang"])
    v = login(client, "volunteer1")
    body = {"found": "problem", "problem_category": "health", "note": "氧气瓶快用完了", "raise_report": True}
    first = client.post(f"/api/v1/care/plans/{plan}/visits", json=body, headers={**v, "Idempotency-Key": "visit-1"})
    again = client.post(f"/api/v1/care/plans/{plan}/visits", json=body, headers={**v, "Idempotency-Key": "visit-1"})
    assert first.status_code == 201 and again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert count(engine, Report) == 1 and count(engine, CareVisit) == 1
    ok = {"found": "ok"}
    one = client.post(f"/api/v1/care/plans/{plan}/visits", json=ok, headers={**v, "Idempotency-Key": "visit-2"})
    two = client.post(f"/api/v1/care/plans/{plan}/visits", json=ok, headers={**v, "Idempotency-Key": "visit-2"})
    assert one.json()["id"] == two.json()["id"] and count(engine, CareVisit) == 2
    other = client.post(f"/api/v1/care/plans/{plan}/visits", json=body, headers={**v, "Idempotency-Key": "visit-2"})
    assert other.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"found": "problem", "note": "x"}, "problem_category"),
        ({"found": "problem", "problem_category": "health"}, "note"),
        ({"found": "maybe"}, "found"),
        ({"visited_at": "2099-01-01T08:00:00+08:00"}, "visited_at"),
        ({"visited_at": "2020-01-01T08:00:00+08:00"}, "visited_at"),
        ({"found": "ok", "raise_report": True}, "raise_report"),
    ],
)
def test_bad_visits_name_the_field(client, engine, world, body, field):
    cw = care_world(engine, world)
    assign(client, login(client, "secretary"), [{"resident_id": world.residents["wang"], "carer": f"m{cw.nurse}"}])
    plan = plan_of(engine, world.residents["wang"])
    r = client.post(f"/api/v1/care/plans/{plan}/visits", json=body, headers=login(client, "volunteer1"))
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}
    assert count(engine, CareVisit) == 0 and count(engine, Report) == 0


def test_overdue_for_carer_and_grid_worker(client, engine, world):
    cw = care_world(engine, world)
    assign(
        client,
        login(client, "secretary"),
        [
            {"resident_id": world.residents["wang"], "carer": f"m{cw.nurse}"},
            {"resident_id": world.residents["li"], "carer": f"m{cw.helper}"},
        ],
    )
    now = datetime.now(UTC)
    with transaction(engine) as s:
        for p in s.scalars(select(CarePlan)):
            p.created_at = now - timedelta(days=20)
        li = s.scalar(select(CarePlan).where(CarePlan.resident_id == world.residents["li"]))
        # 李梅 (weekly) was visited two days ago: not due; 王建国 (every 3 days) never: overdue.
        s.add(CareVisit(plan_id=li.id, carer_kind="volunteer", member_id=cw.helper, visited_at=now - timedelta(days=2)))
    g = login(client, "gridworker1")
    rows = client.get("/api/v1/care/overdue", headers=g).json()
    assert [r["resident"]["name"] for r in rows] == ["王建国"]
    assert rows[0]["days_overdue"] == 17 and rows[0]["grid_workers"] == ["孙网格"]
    v = login(client, "volunteer1")
    mine = client.get("/api/v1/care/overdue", params={"mine": "true"}, headers=v).json()
    assert [r["resident"]["name"] for r in mine] == ["王建国"]
    plan = rows[0]["id"]
    assert client.post(f"/api/v1/care/plans/{plan}/visits", json={"found": "ok"}, headers=v).status_code == 201
    assert client.get("/api/v1/care/overdue", headers=g).json() == []
    # Emergency on a plan: daily visits.
    r = client.patch(f"/api/v1/care/plans/{plan}", json={"emergency": True}, headers=login(client, "secretary"))
    assert r.status_code == 200 and r.json()["frequency_days"] == 1


def test_coverage_marks_the_over_served(client, engine, world):
    cw = care_world(engine, world)
    sec = login(client, "secretary")
    assign(client, sec, [{"resident_id": world.residents["li"], "carer": f"m{cw.helper}"}])
    with transaction(engine) as s:
        plan = s.scalar(select(CarePlan).where(CarePlan.resident_id == world.residents["li"]))
        # A second team visiting the same person: effort that could go to someone else.
        s.add(CareAssignment(plan_id=plan.id, carer_kind="volunteer", member_id=cw.patroller, since=date.today()))
    body = client.get("/api/v1/care/coverage", params={"unit_id": world.units["C1"]}, headers=sec).json()
    assert body["total"] == {**body["total"], "vulnerable": 2, "covered": 1}
    over = [o for o in body["over_served"] if o["level"] == "resident"]
    assert over and over[0]["name"] == "李梅" and set(over[0]["teams"]) == {"银发互助队", "治安巡逻队"}
    assert [u["name"] for u in body["uncovered"]] == ["王建国"]
    b1 = next(b for b in body["buildings"] if b["unit_id"] == world.units["B1"])
    assert b1["vulnerable"] == 2 and b1["share"] == 0.5 and "lon" in b1
    what = client.get(
        "/api/v1/care/what-if",
        params={"unit_id": world.units["C1"], "extra": 1, "skill": "nursing", "area_id": world.units["A1"]},
        headers=sec,
    )
    assert what.status_code == 200, what.text
    assert what.json()["gain"] >= 0 and what.json()["after"]["covered"] >= what.json()["before"]["covered"]


def test_plan_defaults_and_bad_plan_input(client, engine, world):
    care_world(engine, world)
    h = login(client, "staff2")
    r = client.post("/api/v1/care/plans", json={"resident_id": world.residents["chen"]}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["frequency_days"] == rules.WEEKLY  # bedridden
    dup = client.post("/api/v1/care/plans", json={"resident_id": world.residents["chen"]}, headers=h)
    assert dup.status_code == 422 and dup.json()["errors"][0]["field"] == "resident_id"
    bad = client.patch(f"/api/v1/care/plans/{r.json()['id']}", json={"frequency_days": 0}, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "frequency_days"


def test_default_frequency_rules():
    assert rules.default_frequency(["aged80"], "oxygen") == 3
    assert rules.default_frequency(["aged80", "special_needs"], "wheelchair,dialysis") == 3
    assert rules.default_frequency(["bedridden"], None) == 7
    assert rules.default_frequency(["elderly_alone"], None) == 7
    assert rules.default_frequency(["aged80"], None) == 14
    assert rules.default_frequency(["elderly_alone"], "oxygen", emergency=True) == 1
    kinds = rules.care_kinds(
        birth_date=date(1950, 1, 1),
        living_alone=True,
        bedridden=False,
        disability_kind="听力",
        special_needs=None,
        today=date(2026, 1, 1),
    )
    assert kinds == ["elderly_alone", "disabled"]
    assert rules.plan_needs(None, bedridden=False, disability_kind="听力") == ["sign_language"]
    assert rules.plan_needs("oxygen", bedridden=True, disability_kind=None) == ["nursing"]
