"""What evaluation reads from other domains, and what it answers: an organization is credited
with a report only under its own name (a "%" in a name is no wildcard), and the routes answer
the documented shapes."""

from datetime import timedelta

from renxing.db import transaction, utcnow
from renxing.evaluation import served
from renxing.evaluation.periods import period_of
from renxing.evaluation.schemas import ReportOut, ScorecardOut
from renxing.events.intake import ReportRows, write_reports
from renxing.people.models import Resident
from tests.kit.client import login
from tests.kit.drills_world import activity, attend, org


def _report_handled_by(engine, w, label: str) -> None:
    now = utcnow()
    with transaction(engine) as s:
        write_reports(
            s,
            [
                ReportRows(values, timeline=[])
                for values in [
                    {
                        "token": f"tok-{label}",
                        "category_code": "sanitation",
                        "description": "楼道垃圾堆积",
                        "channel": "app",
                        "reporter_user_id": w.users["resident1"],
                        "unit_id": w.units["B1"],
                        "path": s.get(Resident, w.residents["wangxm"]).path,
                        "place_source": "unit",
                        "severity": "low",
                        "state": "closed",
                        "handler_kind": "partner",
                        "handler_label": label,
                        "due_accept": now,
                        "due_on_site": now,
                        "due_resolve": now,
                        "created_at": now - timedelta(days=3),
                        "updated_at": now,
                        "show_name_publicly": False,
                        "reopen_count": 0,
                    }
                ]
            ],
        )


def test_report_credit_by_exact_name(engine, world):
    w = world
    wild = org(engine, w, "物业%", "property_company")
    other = org(engine, w, "物业公司", "property_company")
    _report_handled_by(engine, w, "物业公司（协调：孙网格）")
    with transaction(engine) as s:
        basis = {
            oid: served.service_basis(s, w.residents["wangxm"], served.target(s, "organization", oid))
            for oid in (wild, other)
        }
    assert basis == {wild: None, other: "report"}
    with transaction(engine) as s:
        assert served.target(s, "team", 10**6) is None
        # A service more than a year before "now" no longer counts.
        later = utcnow() + timedelta(days=400)
        assert served.service_basis(s, w.residents["wangxm"], served.target(s, "organization", other), later) is None


def test_scorecard_and_report_shapes(engine, world, client):
    w = world
    police = org(engine, w, "阳光派出所", "police", user="partner1")
    aid = activity(engine, w, starts=utcnow() - timedelta(days=5), status="done", partners=[police])
    attend(engine, aid, w.residents["wangxm"])
    body = {"target_kind": "organization", "target_id": police, "variety": 5, "quality": 4, "responsiveness": 3}
    assert client.post("/api/v1/evaluation/ratings", json=body, headers=login(client, "resident1")).status_code == 200
    staff = login(client, "secretary")
    card = client.get(f"/api/v1/evaluation/scorecards/organization/{police}", headers=staff).json()
    assert set(card) == set(ScorecardOut.model_fields) and card["target"]["kind_label"][0] == "派出所"
    rep = client.get("/api/v1/evaluation/report", params={"period": period_of(utcnow())}, headers=staff).json()
    assert set(rep) == set(ReportOut.model_fields)
    assert rep["rows"] == [
        {
            "name": "阳光派出所",
            "kind_label": "派出所",
            "count": 1,
            "variety": 5.0,
            "quality": 4.0,
            "responsiveness": 3.0,
            "overall": 4.0,
        }
    ]
