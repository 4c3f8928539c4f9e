"""Each setting is changed by the level that owns it; what the responsibility chain shows of
duty holders; attendance is closed for removal as it is for recording (issue 10, finding 4)."""

from datetime import timedelta

import pytest

from renxing.db import utcnow
from tests.kit.client import login, page_login
from tests.kit.drills_world import activity, attend, count_attendance

SECRETARY_PHONE = "13800000001"  # 周书记, the secretary of community C1 in the test world


def test_street_wide_settings_refuse_community_staff_and_say_why(client, world):
    for user in ("secretary", "staff2"):
        h = login(client, user)
        for r in (
            client.patch("/api/v1/severities/low", json={"resolve_minutes": 100000}, headers=h),
            client.patch("/api/v1/categories/gas", json={"default_severity": "low"}, headers=h),
            client.post(
                "/api/v1/categories",
                json={"code": "c_" + user, "name_zh": "x", "name_en": "x", "default_severity": "low"},
                headers=h,
            ),
        ):
            assert r.status_code == 403, r.text
            assert "街道" in r.json()["detail"] and "社区不能修改或覆盖" in r.json()["detail"]
    severities = {s["severity"]: s for s in client.get("/api/v1/severities", headers=login(client, "street")).json()}
    assert severities["low"]["resolve_minutes"] != 100000
    r = client.patch("/api/v1/severities/low", json={"resolve_minutes": 20000}, headers=login(client, "street"))
    assert r.status_code == 200 and r.json()["resolve_minutes"] == 20000


# role → what the chain shows of the C1 secretary's personal phone (None: no phone at all).
CHAIN_PHONE = {
    "secretary": SECRETARY_PHONE,
    "gridworker1": SECRETARY_PHONE,
    "leader1": SECRETARY_PHONE,
    "street": "138****0001",
    "volunteer1": "138****0001",
    "partner1": "138****0001",
    "admin": "138****0001",
    "resident1": None,
}


def _secretary(links):
    (link,) = [x for x in links if x["duty"] == "secretary"]
    (person,) = link["people"]
    return person


@pytest.mark.parametrize("role", list(CHAIN_PHONE))
def test_chain_shows_personal_phones_only_to_roles_that_call(client, world, role):
    h = login(client, role)
    r = client.get(f"/api/v1/grid/units/{world.units['A1']}/chain", headers=h)
    assert r.status_code == 200, r.text
    person = _secretary(r.json())
    assert person["name"] == "周书记" and person["phone"] == CHAIN_PHONE[role]
    if role in ("secretary", "gridworker1", "leader1", "street", "resident1"):
        r = client.get(f"/api/v1/grid/households/{world.households['H1']}/chain", headers=h)
        assert r.status_code == 200 and _secretary(r.json())["phone"] == CHAIN_PHONE[role]
    page_login(client, role)
    text = client.get(f"/grid/{world.units['A1']}/chain").text
    assert "周书记" in text
    assert (f'href="tel:{SECRETARY_PHONE}"' in text) == (CHAIN_PHONE[role] == SECRETARY_PHONE)
    if CHAIN_PHONE[role] != SECRETARY_PHONE:
        assert SECRETARY_PHONE not in text


def test_attendance_cannot_be_removed_once_its_record_is_closed(engine, world, client):
    w = world
    staff = login(client, "secretary")
    old = activity(engine, w, starts=utcnow() - timedelta(days=45), status="done")
    attend(engine, old, w.residents["li"], at=utcnow() - timedelta(days=45))
    r = client.delete(f"/api/v1/drills/{old}/attendance/{w.residents['li']}", headers=staff)
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"activity"}
    assert "已关闭" in r.json()["detail"]
    assert count_attendance(engine, old) == 1
    # adding is refused in the same way
    r = client.post(f"/api/v1/drills/{old}/attendance", json={"resident_ids": [w.residents["wang"]]}, headers=staff)
    assert r.status_code == 422
    gone = activity(engine, w, starts=utcnow() - timedelta(hours=3), status="cancelled")
    attend(engine, gone, w.residents["li"])
    r = client.delete(f"/api/v1/drills/{gone}/attendance/{w.residents['li']}", headers=staff)
    assert r.status_code == 422 and "取消" in r.json()["detail"]
    # within the recording window a sign-in can still be corrected
    recent = activity(engine, w, starts=utcnow() - timedelta(days=2), status="done")
    attend(engine, recent, w.residents["li"])
    r = client.delete(f"/api/v1/drills/{recent}/attendance/{w.residents['li']}", headers=staff)
    assert r.status_code == 200 and count_attendance(engine, recent) == 0
