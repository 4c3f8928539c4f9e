"""Planning and sign-in rules: the code, the time window, the community, duplicates, list uploads
(all or nothing), staff sign-in and permissions, on both databases."""

from datetime import timedelta

from renxing.auth import service as auth_service
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM
from renxing.db import transaction, utcnow
from renxing.drills.signin import signin_token
from renxing.people.models import Resident
from tests.kit.client import login
from tests.kit.drills_world import activity, count_attendance, org

SOON = timedelta(minutes=10)


def field_of(r) -> set[str]:
    return {e["field"] for e in r.json()["errors"]}


def test_plan_activity_and_validation(engine, world, client):
    w = world
    police = org(engine, w, "和平派出所", "police")
    other = org(engine, w, "二苑物业", "property_company", community="C2")
    headers = login(client, "secretary")
    start = utcnow() + timedelta(days=5)
    body = {
        "unit_id": w.units["C1"],
        "kind": "evacuation_drill",
        "hazard": "earthquake",
        "title": "地震应急疏散演练",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "partner_ids": [police],
        "target_unit_ids": [w.units["B1"]],
    }
    r = client.post("/api/v1/drills", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["partners"][0]["name"] == "和平派出所" and r.json()["targets"][0]["name"] == "1栋"
    bad = {**body, "kind": "party", "ends_at": (start - timedelta(hours=1)).isoformat(), "partner_ids": [other]}
    r = client.post("/api/v1/drills", json=bad, headers=headers)
    assert r.status_code == 422
    assert {"kind", "ends_at", "partner_ids"} <= field_of(r)
    # Outside one's community, or without the permission.
    assert client.post("/api/v1/drills", json=body, headers=login(client, "staff2")).status_code == 403
    assert client.post("/api/v1/drills", json=body, headers=login(client, "volunteer1")).status_code == 403
    assert client.post("/api/v1/drills", json=body, headers=login(client, "resident1")).status_code == 403
    listed = client.get("/api/v1/drills", headers=login(client, "resident1")).json()
    assert [a["title"] for a in listed["items"]] == ["地震应急疏散演练"]
    assert client.get("/api/v1/drills", headers=login(client, "staff2")).json()["total"] == 0


def test_qr_sign_in_rules(engine, world, client):
    w = world
    aid = activity(engine, w, starts=utcnow() + timedelta(days=2))
    token = signin_token(aid)
    me = login(client, "resident1")
    # A made-up code, then an event that has not started: refused, nothing written.
    r = client.post(f"/api/v1/drills/{aid}/signin", json={"token": "x" * 24}, headers=me)
    assert r.status_code == 422 and field_of(r) == {"token"}
    r = client.post(f"/api/v1/drills/{aid}/signin", json={"token": token}, headers=me)
    assert r.status_code == 422 and field_of(r) == {"activity"} and "尚未开始" in r.json()["detail"]
    assert count_attendance(engine, aid) == 0

    soon = activity(engine, w, starts=utcnow() + SOON)
    token = signin_token(soon)
    r = client.post(f"/api/v1/drills/{soon}/signin", json={"token": token}, headers=me)
    assert r.status_code == 200 and r.json()["status"] == "signed" and r.json()["resident"] == "王*明"
    # Again: idempotent, one row.
    r = client.post(f"/api/v1/drills/{soon}/signin", json={"token": token}, headers=me)
    assert r.status_code == 200 and r.json()["status"] == "already"
    assert count_attendance(engine, soon) == 1


def test_sign_in_without_account(engine, world, client):
    w = world
    aid = activity(engine, w, starts=utcnow() - timedelta(minutes=30))
    token = signin_token(aid)
    url = f"/api/v1/drills/{aid}/signin"
    r = client.post(url, json={"token": token, "name": "李梅", "phone_last4": "0000"})
    assert r.status_code == 422 and field_of(r) == {"name"}
    r = client.post(url, json={"token": token, "name": "李梅", "phone_last4": "12"})
    assert r.status_code == 422 and field_of(r) == {"phone_last4"}
    # A resident of the other community is not in this one.
    r = client.post(url, json={"token": token, "name": "陈芳", "phone_last4": "5678"})
    assert r.status_code == 422 and "本社区" in r.json()["detail"]
    assert count_attendance(engine, aid) == 0
    r = client.post(url, json={"token": token, "name": "李梅", "phone_last4": "5678"})
    assert r.status_code == 200 and r.json() == {**r.json(), "status": "signed", "resident": "李*"}
    assert count_attendance(engine, aid) == 1


def test_homonyms_need_the_room(engine, world, client):
    w = world
    with transaction(engine) as s:
        li = s.get(Resident, w.residents["li"])
        s.add(
            Resident(
                household_id=w.households["H3"],
                path=li.path.replace(str(w.units["B1"]), str(w.units["B2"])),
                name="李梅",
                phone="13000005678",
            )
        )
    aid = activity(engine, w, starts=utcnow() - timedelta(minutes=5))
    url, token = f"/api/v1/drills/{aid}/signin", signin_token(aid)
    r = client.post(url, json={"token": token, "name": "李梅", "phone_last4": "5678"})
    assert r.status_code == 422 and field_of(r) == {"room"}
    r = client.post(url, json={"token": token, "name": "李梅", "phone_last4": "5678", "room": "201室"})
    assert r.status_code == 200 and r.json()["status"] == "signed"


def test_other_community_resident_refused(engine, world, client):
    w = world
    with transaction(engine) as s:
        auth_service.create_user(
            s,
            SYSTEM,
            username="chenfang",
            password="test-password",
            role=Role.resident,
            display_name="陈芳",
            resident_id=w.residents["chen"],
        )
    aid = activity(engine, w, starts=utcnow() - timedelta(minutes=5))
    r = client.post(
        f"/api/v1/drills/{aid}/signin", json={"token": signin_token(aid)}, headers=login(client, "chenfang")
    )
    assert r.status_code == 422 and field_of(r) == {"resident_id"}
    assert count_attendance(engine, aid) == 0


def test_window_closes_and_cancelled(engine, world, client):
    w = world
    ended = activity(engine, w, starts=utcnow() - timedelta(hours=6), status="done")
    r = client.post(
        f"/api/v1/drills/{ended}/signin", json={"token": signin_token(ended)}, headers=login(client, "resident1")
    )
    assert r.status_code == 422 and "已结束" in r.json()["detail"]
    # Staff may still record it for some days …
    staff = login(client, "secretary")
    r = client.post(f"/api/v1/drills/{ended}/attendance", json={"resident_ids": [w.residents["li"]]}, headers=staff)
    assert r.status_code == 200 and r.json() == {"added": 1, "already": 0}
    # … but not for an activity that ended long ago, nor for a cancelled one.
    old = activity(engine, w, starts=utcnow() - timedelta(days=45), status="done")
    r = client.post(f"/api/v1/drills/{old}/attendance", json={"resident_ids": [w.residents["li"]]}, headers=staff)
    assert r.status_code == 422 and field_of(r) == {"activity"}
    gone = activity(engine, w, starts=utcnow() - timedelta(minutes=5), status="cancelled")
    r = client.post(f"/api/v1/drills/{gone}/attendance", json={"resident_ids": [w.residents["li"]]}, headers=staff)
    assert r.status_code == 422 and "取消" in r.json()["detail"]
    assert count_attendance(engine, old) == count_attendance(engine, gone) == 0


def test_staff_sign_in_scope(engine, world, client):
    w = world
    aid = activity(engine, w, starts=utcnow() - timedelta(minutes=5))
    # A grid worker of area 1 signs in people of their area, not of area 2 or another community.
    gw = login(client, "gridworker1")
    r = client.post(f"/api/v1/drills/{aid}/attendance", json={"resident_ids": [w.residents["zhao"]]}, headers=gw)
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/drills/{aid}/attendance", json={"resident_ids": [w.residents["wang"], w.residents["li"]]}, headers=gw
    )
    assert r.status_code == 200 and r.json()["added"] == 2
    r = client.post(
        f"/api/v1/drills/{aid}/attendance",
        json={"resident_ids": [w.residents["chen"]]},
        headers=login(client, "street"),
    )
    assert r.status_code == 422 and "本社区" in r.json()["errors"][0]["message"]
    assert (
        client.post(
            f"/api/v1/drills/{aid}/attendance",
            json={"resident_ids": [w.residents["wang"]]},
            headers=login(client, "volunteer1"),
        ).status_code
        == 403
    )
    # The attendance list shows the grid worker their own people; a volunteer only the count.
    listed = client.get(f"/api/v1/drills/{aid}/attendance", headers=gw).json()
    assert {x["name"] for x in listed["items"]} == {"王建国", "李梅"} and listed["signed_in"] == 2
    listed = client.get(f"/api/v1/drills/{aid}/attendance", headers=login(client, "volunteer1")).json()
    assert listed["items"] == [] and listed["signed_in"] == 2


def _ids(engine, w):
    with transaction(engine) as s:
        return {k: s.get(Resident, v).id_number for k, v in w.residents.items()}


def test_list_upload_all_or_nothing(engine, world, client):
    w = world
    ids = _ids(engine, w)
    aid = activity(engine, w, starts=utcnow() - timedelta(hours=3), status="done")
    staff = login(client, "secretary")
    url = f"/api/v1/drills/{aid}/attendance/upload"
    bad = "姓名,身份证号,手机号\n王建国,{wang},\n李梅,,13700000000\n陈芳,{chen},\n王建国,{wang},\n,,\n赵强,12345,\n"
    bad = bad.format(**ids)
    r = client.post(url, files={"file": ("签到.csv", bad.encode("utf-8"), "text/csv")}, headers=staff)
    assert r.status_code == 422, r.text
    rows = {(e["row"], e["field"]) for e in r.json()["errors"]}
    # Row 3: wrong phone; row 4: another community; row 5: the same person again; row 7: bad ID number.
    assert {(3, "手机号"), (4, "身份证号"), (5, "姓名"), (7, "身份证号")} <= rows
    assert 2 not in {e["row"] for e in r.json()["errors"]}
    assert count_attendance(engine, aid) == 0
    good = "姓名,身份证号,手机号\n王建国,{wang},\n李梅,,137 1234 5678\n赵强,{zhao},\n".format(**ids)
    r = client.post(url, files={"file": ("签到.csv", good.encode("utf-8"), "text/csv")}, headers=staff)
    assert r.status_code == 200, r.text
    assert r.json() == {"rows": 3, "added": 3, "already": 0}
    # Uploading again adds nobody.
    r = client.post(url, files={"file": ("签到.csv", good.encode("utf-8"), "text/csv")}, headers=staff)
    assert r.json() == {"rows": 3, "added": 0, "already": 3}
    # Headers missing; a grid worker (part of the community only) may not upload lists.
    r = client.post(url, files={"file": ("x.csv", "名字\n王建国\n".encode(), "text/csv")}, headers=staff)
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 1
    r = client.post(
        url, files={"file": ("签到.csv", good.encode("utf-8"), "text/csv")}, headers=login(client, "gridworker1")
    )
    assert r.status_code == 403
    assert count_attendance(engine, aid) == 3


def test_signin_code_svg(engine, world, client):
    w = world
    aid = activity(engine, w, starts=utcnow() + timedelta(days=1))
    r = client.get(f"/api/v1/drills/{aid}/signin-code", headers=login(client, "secretary"))
    assert r.status_code == 200
    assert r.json()["svg"].startswith("<svg") and r.json()["url"].endswith(
        f"/drills/{aid}/signin?t={signin_token(aid)}"
    )
    assert client.get(f"/api/v1/drills/{aid}/signin-code", headers=login(client, "resident1")).status_code == 403
    assert client.get(f"/api/v1/drills/{aid}", headers=login(client, "staff2")).status_code == 404
