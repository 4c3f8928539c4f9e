"""Public evaluation: only a service received can be rated, one rating per quarter (updated),
scorecard figures, the public report as xlsx and PDF, and who may see what."""

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from renxing.auth import service as auth_service
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM
from renxing.care.models import CarePlan, CareVisit
from renxing.db import transaction, utcnow
from renxing.evaluation.models import Rating
from renxing.evaluation.periods import period_of
from renxing.events.intake import ReportRows, write_reports
from renxing.people.models import Resident
from tests.kit.client import login
from tests.kit.drills_world import activity, attend, member, org, team


def count_ratings(engine) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).select_from(Rating)) or 0


@pytest.fixture
def served(engine, world):
    """李梅 gets care visits from the silver team; 王小明 (resident1) took part in a drill with the
    police station; 王小明's report was handled by the property company."""
    w = world
    now = utcnow()
    with transaction(engine) as s:
        auth_service.create_user(
            s,
            SYSTEM,
            username="limei",
            password="test-password",
            role=Role.resident,
            display_name="李梅",
            resident_id=w.residents["li"],
        )
    silver = team(engine, w, "银发互助队")
    patrol = team(engine, w, "治安巡逻队", kind="security_patrol")
    m = member(engine, silver, "王建国", w.residents["wang"])
    police = org(engine, w, "阳光派出所", "police", user="partner1")
    prop = org(engine, w, "阳光物业", "property_company")
    far = org(engine, w, "和平物业", "property_company", community="C2")
    with transaction(engine) as s:
        li = s.get(Resident, w.residents["li"])
        plan = CarePlan(resident_id=li.id, path=li.path, frequency_days=7, status="active")
        s.add(plan)
        s.flush()
        s.add(CareVisit(plan_id=plan.id, carer_kind="volunteer", member_id=m, visited_at=now - timedelta(days=3)))
    a = activity(engine, w, starts=now - timedelta(days=20), status="done", partners=[police])
    attend(engine, a, w.residents["wangxm"])
    with transaction(engine) as s:
        b1 = s.get(Resident, w.residents["wangxm"]).path
        write_reports(
            s,
            [
                ReportRows(values, timeline=[])
                for values in [
                    {
                        "token": "tok-eval-1",
                        "category_code": "sanitation",
                        "description": "楼道垃圾堆积",
                        "channel": "app",
                        "reporter_user_id": w.users["resident1"],
                        "unit_id": w.units["B1"],
                        "path": b1,
                        "place_source": "unit",
                        "severity": "low",
                        "state": "closed",
                        "handler_kind": "partner",
                        "handler_label": "阳光物业（协调：孙网格）",
                        "due_accept": now,
                        "due_on_site": now,
                        "due_resolve": now,
                        "created_at": now - timedelta(days=30),
                        "updated_at": now,
                        "show_name_publicly": False,
                        "reopen_count": 0,
                    }
                ]
            ],
        )
    return {"silver": silver, "patrol": patrol, "police": police, "prop": prop, "far": far}


def rate(client, headers, kind, tid, v=4, q=4, r=4, comment=None, **extra):
    body = {"target_kind": kind, "target_id": tid, "variety": v, "quality": q, "responsiveness": r, "comment": comment}
    return client.post("/api/v1/evaluation/ratings", json={**body, **extra}, headers=headers)


def test_rating_requires_service_received(engine, world, served, client):
    me = login(client, "resident1")
    rateable = client.get("/api/v1/evaluation/rateable", headers=me).json()
    assert {(t["name"], t["basis"]) for t in rateable} == {("阳光派出所", "activity"), ("阳光物业", "report")}
    r = rate(client, me, "team", served["silver"])
    assert r.status_code == 422 and r.json()["errors"][0] == {**r.json()["errors"][0], "field": "target_id"}
    assert "未接受过" in r.json()["detail"]
    assert rate(client, me, "team", served["patrol"]).status_code == 422
    # Another community's organization is not one that can have served here.
    assert rate(client, me, "organization", served["far"]).status_code == 422
    assert count_ratings(engine) == 0
    r = rate(client, me, "organization", served["prop"], 2, 3, 2, "处理慢")
    assert r.status_code == 200 and r.json()["basis"] == "report" and r.json()["created"] is True
    r = rate(client, login(client, "limei"), "team", served["silver"], 5, 5, 4, "每周都来")
    assert r.status_code == 200 and r.json()["basis"] == "care_visit"
    # Staff do not rate; scores outside 1–5 name their field.
    assert rate(client, login(client, "secretary"), "organization", served["prop"]).status_code == 403
    r = rate(client, me, "organization", served["police"], 6, 0, 3)
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"variety", "quality"}
    r = rate(client, me, "organization", served["police"], period="2026-13")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "period"
    r = rate(client, me, "organization", served["police"], period="2099Q1")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "period"
    assert count_ratings(engine) == 2


def test_one_rating_per_quarter_updated(engine, world, served, client):
    me = login(client, "resident1")
    assert rate(client, me, "organization", served["police"], 3, 3, 3).json()["created"] is True
    r = rate(client, me, "organization", served["police"], 5, 4, 5, "出警快")
    assert r.status_code == 200 and r.json()["created"] is False and r.json()["quality"] == 4
    assert count_ratings(engine) == 1
    # A past quarter is a separate rating.
    last = period_of(utcnow() - timedelta(days=100))
    assert rate(client, me, "organization", served["police"], 4, 4, 4, period=last).json()["created"] is True
    assert count_ratings(engine) == 2


def test_scorecard_numbers(engine, world, served, client):
    w = world
    now = utcnow()
    a = activity(engine, w, starts=now - timedelta(days=5), status="done", partners=[served["police"]])
    attend(engine, a, w.residents["li"])
    rate(client, login(client, "resident1"), "organization", served["police"], 5, 4, 3, "演练组织得好")
    rate(client, login(client, "limei"), "organization", served["police"], 3, 4, 1)
    staff = login(client, "secretary")
    card = client.get(f"/api/v1/evaluation/scorecards/organization/{served['police']}", headers=staff).json()
    assert card["count"] == 2
    assert card["means"] == {"variety": 4.0, "quality": 4.0, "responsiveness": 2.0}
    assert card["overall"] == pytest.approx((4 + 8 / 3) / 2, abs=0.01)
    assert card["distribution"]["variety"] == [0, 0, 1, 0, 1]
    assert card["distribution"]["responsiveness"] == [1, 0, 1, 0, 0]
    assert sum(t["count"] for t in card["trend"]) == 2
    assert [c["comment"] for c in card["comments"]] == ["演练组织得好"]
    assert "resident_id" not in str(card) and "王小明" not in str(card)
    listed = client.get("/api/v1/evaluation/scorecards", params={"period": period_of(now)}, headers=staff).json()
    row = next(x for x in listed["rows"] if x["name"] == "阳光派出所")
    assert (row["count"], row["variety"], row["raters"], row["satisfied"]) == (2, 4.0, 2, 1)
    assert {x["name"] for x in listed["rows"]} == {"银发互助队", "治安巡逻队", "阳光派出所", "阳光物业"}


def test_scorecard_permissions(engine, world, served, client):
    rate(client, login(client, "resident1"), "organization", served["police"])
    partner = login(client, "partner1")
    # A partner sees its own scorecard, not others'.
    assert (
        client.get(f"/api/v1/evaluation/scorecards/organization/{served['police']}", headers=partner).status_code == 200
    )
    assert (
        client.get(f"/api/v1/evaluation/scorecards/organization/{served['prop']}", headers=partner).status_code == 404
    )
    assert [x["name"] for x in client.get("/api/v1/evaluation/scorecards", headers=partner).json()["rows"]] == [
        "阳光派出所"
    ]
    assert (
        client.get(
            f"/api/v1/evaluation/scorecards/organization/{served['police']}", headers=login(client, "staff2")
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/evaluation/scorecards/team/{served['silver']}", headers=login(client, "resident1")
        ).status_code
        == 403
    )
    assert client.get("/api/v1/evaluation/scorecards", headers=login(client, "volunteer1")).status_code == 403


def test_public_report_xlsx_pdf(engine, world, served, client):
    rate(client, login(client, "resident1"), "organization", served["police"], 5, 5, 4, "很好")
    rate(client, login(client, "resident1"), "organization", served["prop"], 2, 2, 1)
    rate(client, login(client, "limei"), "team", served["silver"], 4, 5, 5)
    period = period_of(utcnow())
    me = login(client, "resident1")
    r = client.get("/api/v1/evaluation/report", params={"period": period}, headers=me)
    assert r.status_code == 200
    rep = r.json()
    assert rep["community"] == "阳光社区" and rep["total_count"] == 3 and rep["raters"] == 2
    assert rep["share_satisfied"] == pytest.approx(2 / 3, abs=1e-3)
    assert [x["name"] for x in rep["rows"]] == ["银发互助队", "阳光派出所", "阳光物业"]
    assert "王" not in str(rep) and "很好" not in str(rep)  # aggregates only: no names, no comments
    r = client.get("/api/v1/evaluation/report", params={"period": period, "format": "xlsx"}, headers=me)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][0].startswith("组织") and len(rows) == 1 + 3 + 1
    assert rows[1][0] == "银发互助队" and rows[1][2] == 1
    r = client.get(
        "/api/v1/evaluation/report", params={"period": period[:4], "format": "pdf"}, headers=login(client, "secretary")
    )
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and len(r.content) > 10_000
    # Residents see their own community's report only; a bad period names the field.
    r = client.get("/api/v1/evaluation/report", params={"period": period, "unit_id": world.units["C2"]}, headers=me)
    assert r.status_code == 404
    r = client.get("/api/v1/evaluation/report", params={"period": "Q4"}, headers=me)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "period"
