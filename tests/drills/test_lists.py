"""The drills lists go through their list specs, and the routes answer the shapes they document:
a bad sort or filter is one 422 naming the field, pages stay in a stable order, every declared
field is there and nothing else."""

from datetime import timedelta

from renxing.db import utcnow
from renxing.drills.schemas import ActivityOut, ActivityRow, AttendancePage, CoverageOut, InviteeOut
from tests.kit.client import login
from tests.kit.drills_world import activity, attend


def fields_of(r) -> list[str]:
    return [e["field"] for e in r.json()["errors"]]


def test_bad_sort_and_filters_name_their_field(world, client):
    staff = login(client, "secretary")
    r = client.get("/api/v1/drills", params={"sort": "place"}, headers=staff)
    assert r.status_code == 422 and fields_of(r) == ["sort"]
    r = client.get("/api/v1/drills", params={"kind": "party"}, headers=staff)
    assert r.status_code == 422 and fields_of(r) == ["kind"]
    r = client.get("/api/v1/drills", params={"kind": "party", "status": "over"}, headers=staff)
    assert r.status_code == 422 and sorted(fields_of(r)) == ["kind", "status"]


def test_pages_of_equal_starts_are_stable(engine, world, client):
    start = utcnow() + timedelta(days=4)
    ids = {activity(engine, world, starts=start, title=f"演练{i}") for i in range(5)}
    staff = login(client, "secretary")
    for sort in ("starts_at", "-starts_at"):
        seen = []
        for page in (1, 2, 3):
            r = client.get("/api/v1/drills", params={"sort": sort, "size": 2, "page": page}, headers=staff)
            assert r.status_code == 200 and r.json()["total"] == 5
            seen += [a["id"] for a in r.json()["items"]]
        assert sorted(seen) == sorted(ids), sort  # every row once, none twice
    r = client.get("/api/v1/drills", params={"sort": "-title"}, headers=staff)
    assert [a["title"] for a in r.json()["items"]] == [f"演练{i}" for i in (4, 3, 2, 1, 0)]
    r = client.get("/api/v1/drills", params={"q": "演练3"}, headers=staff)
    assert [a["title"] for a in r.json()["items"]] == ["演练3"]


def test_answers_are_the_documented_shapes(engine, world, client):
    w = world
    aid = activity(engine, w, starts=utcnow() - timedelta(days=2), status="done")
    attend(engine, aid, w.residents["li"], w.residents["zhao"])
    staff = login(client, "secretary")
    listed = client.get("/api/v1/drills", headers=staff).json()
    assert set(listed["items"][0]) == set(ActivityRow.model_fields)
    one = client.get(f"/api/v1/drills/{aid}", headers=staff).json()
    assert set(one) == set(ActivityOut.model_fields) and one["attendance"] == 2
    att = client.get(f"/api/v1/drills/{aid}/attendance", params={"size": 1}, headers=staff).json()
    assert set(att) == set(AttendancePage.model_fields)
    assert (att["signed_in"], att["total"], att["pages"], len(att["items"])) == (2, 2, 2, 1)
    cov = client.get("/api/v1/drills/coverage", params={"unit_id": w.units["C1"]}, headers=staff).json()
    assert set(cov) == set(CoverageOut.model_fields)
    assert cov["communities"][0]["activity_target"] > 0 and "activity_target" not in cov["units"][0]
    invite = client.get("/api/v1/drills/coverage/not-reached", headers=staff).json()
    assert invite["items"] and set(invite["items"][0]) == set(InviteeOut.model_fields)


def test_attendance_latest_first_across_pages(engine, world, client):
    w = world
    aid = activity(engine, w, starts=utcnow() - timedelta(days=1), status="done")
    now = utcnow()
    for i, key in enumerate(("wang", "li", "zhao")):
        attend(engine, aid, w.residents[key], at=now - timedelta(hours=i))
    staff = login(client, "secretary")
    pages = [
        client.get(f"/api/v1/drills/{aid}/attendance", params={"size": 2, "page": p}, headers=staff).json()
        for p in (1, 2)
    ]
    ids = [x["resident_id"] for page in pages for x in page["items"]]
    assert ids == [w.residents[k] for k in ("wang", "li", "zhao")]
