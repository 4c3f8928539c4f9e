"""The pages of drills and evaluation through a browser's requests: calendar, planning form,
activity page with QR and list upload, mobile sign-in without an account, coverage, rating form,
scorecards and the report downloads; in Chinese and English."""

import re
from datetime import timedelta

from renxing.db import utcnow
from renxing.drills.signin import signin_token
from tests.kit.client import CSRF, page_login
from tests.kit.drills_world import activity, attend, count_attendance, org


def test_calendar_plan_and_activity_page(engine, world, client):
    w = world
    police = org(engine, w, "阳光派出所", "police")
    token = page_login(client, "secretary")
    r = client.get("/drills")
    assert r.status_code == 200 and "演练日历" in r.text and 'id="month-grid"' in r.text
    r = client.get("/drills/new")
    assert r.status_code == 200 and "阳光派出所" in r.text
    start = (utcnow() + timedelta(days=2)).astimezone().strftime("%Y-%m-%dT09:00")
    form = {
        "csrf_token": token,
        "unit_id": str(w.units["C1"]),
        "title": "消防安全宣讲",
        "kind": "lecture",
        "hazard": "fire",
        "starts_at": start,
        "ends_at": start.replace("T09:00", "T08:00"),
        "partner_ids": str(police),
    }
    r = client.post("/drills/new", data=form, follow_redirects=False)
    assert r.status_code == 422 and "结束时间应晚于开始时间" in r.text
    form["ends_at"] = start.replace("T09:00", "T11:00")
    r = client.post("/drills/new", data=form, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "消防安全宣讲" in page.text and "<svg" in page.text
    assert "阳光派出所" in page.text
    r = client.get("/drills?view=list&kind=lecture")
    assert "消防安全宣讲" in r.text
    r = client.get("/drills?view=list&lang=en")
    assert "Drill calendar" in r.text and "lecture / publicity" in r.text


def test_upload_page_names_bad_rows(engine, world, client):
    w = world
    aid = activity(engine, w, starts=utcnow() - timedelta(hours=1))
    token = page_login(client, "secretary")
    bad = "姓名,手机号\n李梅,13712345678\n张三,13800000000\n".encode()
    r = client.post(
        f"/drills/{aid}/upload",
        data={"csrf_token": token},
        files={"file": ("签到.csv", bad, "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 422 and 'id="upload-errors"' in r.text and "<td>3</td>" in r.text
    assert count_attendance(engine, aid) == 0
    good = "姓名,手机号\n李梅,13712345678\n".encode()
    r = client.post(
        f"/drills/{aid}/upload",
        data={"csrf_token": token},
        files={"file": ("签到.csv", good, "text/csv")},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "李梅" in r.text and count_attendance(engine, aid) == 1
    # Staff sign-in by name.
    r = client.get(f"/drills/{aid}?who=赵")
    assert "赵强" in r.text
    r = client.post(
        f"/drills/{aid}/attendance",
        data={"csrf_token": token, "resident_id": str(w.residents["zhao"])},
        follow_redirects=True,
    )
    assert r.status_code == 200 and count_attendance(engine, aid) == 2


def test_mobile_sign_in_without_account(engine, world, client):
    w = world
    aid = activity(engine, w, starts=utcnow() - timedelta(minutes=10))
    client.cookies.clear()
    r = client.get(f"/drills/{aid}/signin", params={"t": signin_token(aid)})
    assert r.status_code == 200 and 'id="signin-form"' in r.text
    token = CSRF.search(r.text).group(1)
    data = {"csrf_token": token, "token": signin_token(aid), "name": "赵强", "phone_last4": "9999"}
    r = client.post(f"/drills/{aid}/signin", data=data)
    assert r.status_code == 422 and 'id="signin-problem"' in r.text
    r = client.post(f"/drills/{aid}/signin", data={**data, "phone_last4": "5678"})
    assert r.status_code == 200 and "签到成功" in r.text and "赵*" in r.text
    assert count_attendance(engine, aid) == 1
    # A bad code shows a clear message, and a form without the CSRF cookie is refused.
    assert client.get(f"/drills/{aid}/signin", params={"t": "nope"}).status_code == 422
    client.cookies.clear()
    assert client.post(f"/drills/{aid}/signin", data=data).status_code == 403


def test_resident_signs_in_as_self(engine, world, client):
    w = world
    aid = activity(engine, w, starts=utcnow() - timedelta(minutes=10))
    page_login(client, "resident1")
    r = client.get(f"/drills/{aid}/signin", params={"t": signin_token(aid)})
    assert 'id="signin-self"' in r.text
    token = CSRF.search(r.text).group(1)
    r = client.post(f"/drills/{aid}/signin", data={"csrf_token": token, "token": signin_token(aid)})
    assert r.status_code == 200 and "签到成功" in r.text
    r = client.post(f"/drills/{aid}/signin", data={"csrf_token": token, "token": signin_token(aid)})
    assert "您已签到过" in r.text and count_attendance(engine, aid) == 1


def test_coverage_page(engine, world, client):
    w = world
    aid = activity(engine, w, starts=utcnow() - timedelta(days=3), status="done")
    attend(engine, aid, w.residents["zhao"])
    page_login(client, "secretary")
    r = client.get("/drills/coverage", params={"unit_id": w.units["C1"]})
    assert r.status_code == 200
    assert re.search(r'id="total-reach">25%<', r.text)
    assert 'id="not-reached"' in r.text and "李梅" in r.text and 'id="export-invite"' in r.text
    r = client.get("/drills/coverage/not-reached.xlsx", params={"unit_id": w.units["C1"]})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    page_login(client, "volunteer1")
    r = client.get("/drills/coverage")
    assert r.status_code == 200 and 'id="not-reached"' not in r.text and "25%" in r.text


def test_evaluation_pages(engine, world, client):
    w = world
    police = org(engine, w, "阳光派出所", "police", user="partner1")
    aid = activity(engine, w, starts=utcnow() - timedelta(days=3), status="done", partners=[police])
    attend(engine, aid, w.residents["wangxm"])
    token = page_login(client, "resident1")
    r = client.get("/evaluation")
    assert r.status_code == 200 and "阳光派出所" in r.text and f'id="rate-organization-{police}"' in r.text
    data = {
        "csrf_token": token,
        "target_kind": "organization",
        "target_id": str(police),
        "variety": "5",
        "quality": "4",
    }
    r = client.post("/evaluation/rate", data=data)
    assert r.status_code == 422
    r = client.post(
        "/evaluation/rate", data={**data, "responsiveness": "4", "comment": "很及时"}, follow_redirects=True
    )
    assert r.status_code == 200 and 'id="rating-saved"' in r.text and "本季度已评价" in r.text
    r = client.get("/evaluation/report")
    assert r.status_code == 200 and "阳光派出所" in r.text and "很及时" not in r.text
    page_login(client, "partner1")
    r = client.get(f"/evaluation/scorecards/organization/{police}")
    assert r.status_code == 200 and "很及时" in r.text
    page_login(client, "secretary")
    r = client.get("/evaluation", follow_redirects=True)
    assert r.status_code == 200 and 'id="scorecards"' in r.text
    period = re.search(r"/evaluation/report\.pdf\?period=([0-9Q]+)", client.get("/evaluation/report").text).group(1)
    r = client.get("/evaluation/report.pdf", params={"period": period})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert client.get("/evaluation/report.doc", params={"period": period}).status_code == 422


def test_calendar_month_parameter():
    from renxing.drills.views import parse_month as _month

    assert _month("2026-03") == (2026, 3)
    assert _month("2026-3") == (2026, 3)
    current = _month(None)
    for bad in ("2026-13", "1999-01", "march", "2026-03-01", ""):
        assert _month(bad) == current
