"""Days of autonomy and allocation runs on the test world: stock in the community store and at the
supermarket (agreement in force, half its stock), the school's agreement expired; the evacuation
scenario of ``tests.kit.space_plan_world`` (everyone out; the park takes 2, the north square 1)."""

from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.errors import Conflict, Forbidden, Invalid
from renxing.space.planning import scenarios
from renxing.supplies import allocating, days, ledger, movements
from renxing.supplies.models import Movement, Transfer
from renxing.supplies.movements import ReceiptLine
from tests.kit.client import login
from tests.kit.space_plan_world import build_plan_world
from tests.kit.supplies_world import supplies_world


@pytest.fixture
def planned(engine, world):
    pw = build_plan_world(engine, world)
    sw = supplies_world(engine, world)
    later = date.today() + timedelta(days=200)
    with transaction(engine) as s:
        it = sw.items
        movements.receive(
            s,
            SYSTEM,
            sw.points["store"],
            [
                ReceiptLine(it["water"], 120, expiry=later),
                ReceiptLine(it["food"], 48, expiry=later),
                ReceiptLine(it["mask"], 40, expiry=later),
                ReceiptLine(it["medicine"], 10, expiry=later),
                ReceiptLine(it["water"], 500, expiry=date.today() - timedelta(days=1)),  # expired: not usable
            ],
            occurred_at=None,
        )
        movements.receive(s, SYSTEM, sw.points["market"], [ReceiptLine(it["water"], 1000, expiry=later)])
        movements.receive(s, SYSTEM, sw.points["school"], [ReceiptLine(it["blanket"], 100)])
        sc = scenarios.create_scenario(
            s, SYSTEM, {"community_id": world.units["C1"], "name": "全员疏散", "evacuate_all": True}
        )
        scenario_id = sc.id
    return pw, sw, scenario_id


def test_days_of_autonomy_count_usable_stock_and_what_agreements_allow(engine, world, planned):
    _pw, _sw, scenario_id = planned
    with transaction(engine) as s:
        out = days.autonomy_of(s, SYSTEM, world.units["C1"], scenario_id)
    # 4 residents in C1, 1 of them vulnerable (aged 80+ with a chronic illness).
    assert out["population"] == {"everyone": 4, "vulnerable": 1, "bedridden": 0, "infants": 0}
    by_code = {row["item"]["code"]: row for row in out["autonomy"]["items"]}
    # water: 120 usable at the store + half of the market's 1,000 (within the 2,000 committed) = 620 L
    # for 4 × 15 L a day; the 500 L expired yesterday do not count.
    assert by_code["water"]["stock"] == 620
    assert by_code["water"]["days"] == pytest.approx(620 / 60, abs=0.01)
    # food: 48 portions for 4 × 3 a day = 4 days, the first to run out.
    assert out["autonomy"]["binding_item"]["code"] == "food"
    assert out["autonomy"]["days"] == pytest.approx(4.0)
    # The school's blankets are under an expired agreement: none may be counted.
    blanket = next(c for c in out["coverage"] if c["item"] == "棉被")
    assert blanket == {"item": "棉被", "unit": "条", "needed": 4, "stock": 0}
    sc = out["scenario"]
    assert sc["evacuees"] == 3 and sc["unplaced"] == 1
    assert sum(s["persons"] for s in sc["shelters"]) == 3
    # The shelters hold no stores of their own: each lasts 0 days.
    assert all(s["days"] == 0 for s in sc["shelters"])


def test_partners_may_not_plan(engine, world, planned):
    partner = login_principal(engine, "partner1")
    with transaction(engine) as s, pytest.raises(Forbidden):
        days.autonomy_of(s, partner, world.units["C1"])


def login_principal(engine, username):
    from renxing.auth.models import User
    from renxing.auth.service import principal_for

    with transaction(engine) as s:
        return principal_for(s, s.scalar(select(User).where(User.username == username)))


def test_allocation_meets_what_it_can_and_commit_posts_transfers(engine, world, planned):
    _pw, sw, scenario_id = planned
    with transaction(engine) as s:
        run = allocating.propose(s, SYSTEM, world.units["C1"], scenario_id, 2)
        run_id, result = run.id, run.result
    assert result["status"] == "optimal"
    assert result["certificate"]
    delivered: dict[tuple[int, str], int] = defaultdict(int)
    sent: dict[tuple[int, str], int] = defaultdict(int)
    for f in result["flows"]:
        delivered[(f["shelter_id"], f["item"]["code"])] += f["quantity"]
        sent[(f["point_id"], f["item"]["code"])] += f["quantity"]
    # Nothing from the school (expired agreement) and at most half the market's water.
    assert not any(p == sw.points["school"] for p, _ in sent)
    assert sent.get((sw.points["market"], "water"), 0) <= 500
    assert sent.get((sw.points["store"], "water"), 0) <= 120
    # 3 evacuees × 15 L × 2 days = 90 L: met in full, from the nearest water first.
    assert sum(q for (_, code), q in delivered.items() if code == "water") == 90
    # No one holds blankets the community may use: every shelter is short of one per evacuee.
    short = {(r["shelter_id"], r["item"]["code"]): r["quantity"] for r in result["shortfalls"]}
    for sh in result["shelters"]:
        assert short[(sh["id"], "blanket")] == sh["persons"]
    with transaction(engine) as s:
        before = ledger.level(s, sw.points["store"], sw.items["food"])
        allocating.commit(s, SYSTEM, run_id)
    with transaction(engine) as s:
        transfers = list(s.scalars(select(Transfer).where(Transfer.run_id == run_id)))
        assert transfers and all(t.status == "in_transit" for t in transfers)
        assert sum(t.quantity for t in transfers) == sum(f["quantity"] for f in result["flows"])
        food_out = sum(
            f["quantity"]
            for f in result["flows"]
            if f["point_id"] == sw.points["store"] and f["item"]["code"] == "food"
        )
        assert ledger.level(s, sw.points["store"], sw.items["food"]) == before - food_out
        legs = s.scalars(select(Movement).where(Movement.run_id == run_id, Movement.kind == "transfer_out")).all()
        drawn = {m.agreement_id for m in legs if m.point_id == sw.points["market"]}
        assert drawn <= {sw.agreements["market"]}
    with transaction(engine) as s, pytest.raises(Conflict):
        allocating.commit(s, SYSTEM, run_id)


def test_allocation_refuses_a_scenario_of_another_community_and_bad_days(engine, world, planned):
    _pw, _sw, scenario_id = planned
    with transaction(engine) as s, pytest.raises(Invalid) as e:
        allocating.propose(s, SYSTEM, world.units["C2"], scenario_id, 2)
    assert e.value.errors[0].field == "scenario_id"
    with transaction(engine) as s, pytest.raises(Invalid) as e:
        allocating.propose(s, SYSTEM, world.units["C1"], scenario_id, 31)
    assert e.value.errors[0].field == "days"


def test_pick_lists_and_runs_over_http(client, engine, world, planned):
    _pw, _sw, scenario_id = planned
    h = login(client, "secretary")
    body = {"community_id": world.units["C1"], "scenario_id": scenario_id, "days": 1}
    r = client.post("/api/v1/supplies/allocations", json=body, headers=h)
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    xlsx = client.get(f"/api/v1/supplies/allocations/{run_id}/picklists.xlsx", headers=h)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    pdf = client.get(f"/api/v1/supplies/allocations/{run_id}/picklists.pdf", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    listed = client.get("/api/v1/supplies/allocations", headers=h).json()
    assert [row["id"] for row in listed["items"]] == [run_id]
    assert client.post(f"/api/v1/supplies/allocations/{run_id}/commit", headers=h).json()["status"] == "committed"
    other = login(client, "staff2")
    assert client.get(f"/api/v1/supplies/allocations/{run_id}", headers=other).status_code == 404
    params = {"community_id": world.units["C1"]}
    assert client.get("/api/v1/supplies/autonomy", params=params, headers=other).status_code == 403
    assert client.get("/api/v1/supplies/autonomy", params=params, headers=h).json()["autonomy"]["days"] is not None
