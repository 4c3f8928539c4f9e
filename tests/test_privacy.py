"""Masking per role, audit of clear reads and of writes, soft delete with undo."""

from sqlalchemy import select

from renxing.auth.models import AuditEntry
from renxing.db import transaction
from tests.conftest import login

WANG_PHONE = "13812345678"


def _wang(client, world, user):
    r = client.get(f"/api/v1/residents/{world.residents['wang']}", headers=login(client, user))
    assert r.status_code == 200, r.text
    return r.json()


def test_masking_follows_role(client, world):
    staff = _wang(client, world, "secretary")
    assert len(staff["id_number"]) == 18 and "*" not in staff["id_number"]
    assert staff["phone"] == WANG_PHONE
    assert staff["chronic_illness"] == "高血压" and "chronic" in staff["tags"]

    grid = _wang(client, world, "gridworker1")
    assert grid["phone"] == WANG_PHONE
    assert grid["id_number"].startswith("3201") and "**********" in grid["id_number"]
    assert grid["special_needs"] == "oxygen"

    leader = _wang(client, world, "leader1")
    assert leader["phone"] == WANG_PHONE
    assert leader["chronic_illness"] == "***" and "chronic" not in leader["tags"]

    street = _wang(client, world, "street")
    assert street["phone"] == "138****5678"
    assert street["id_number"] == staff["id_number"][:4] + "*" * 10 + staff["id_number"][-4:]
    assert street["chronic_illness"] == "***"
    assert "aged60" in street["tags"]  # age is not health data


def test_resident_sees_own_record_in_full_and_family_masked(client, world):
    h = login(client, "resident1")
    own = client.get(f"/api/v1/residents/{world.residents['wangxm']}", headers=h).json()
    assert own["phone"] == "13912345678" and "*" not in own["id_number"]
    father = client.get(f"/api/v1/residents/{world.residents['wang']}", headers=h).json()
    assert father["phone"] == "138****5678" and father["chronic_illness"] == "***"


def test_lists_are_masked_for_everyone(client, world):
    r = client.get("/api/v1/residents", headers=login(client, "secretary"))
    for item in r.json()["items"]:
        assert "****" in item["phone"]
        assert "*" in item["id_number"]


def test_clear_reads_are_audited_and_masked_reads_are_not(client, world, engine):
    _wang(client, world, "gridworker1")
    _wang(client, world, "street")
    with transaction(engine) as s:
        reads = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "read_personal", AuditEntry.entity_id == world.residents["wang"]
            )
        ).all()
        assert [(e.actor_name, e.summary) for e in reads] == [("gridworker1", "health,phone")]


def test_write_audit_records_before_and_after(client, world):
    h = login(client, "secretary")
    rid = world.residents["li"]
    r = client.patch(f"/api/v1/residents/{rid}", json={"phone": "13700001111", "living_alone": False}, headers=h)
    assert r.status_code == 200, r.text
    trail = client.get(f"/api/v1/residents/{rid}/audit", headers=h).json()
    update = next(e for e in trail if e["action"] == "update")
    assert update["actor"] == "secretary"
    assert update["before"] == {"phone": "13712345678", "living_alone": True}
    assert update["after"] == {"phone": "13700001111", "living_alone": False}


def test_bad_input_names_the_field_and_changes_nothing(client, world):
    h = login(client, "secretary")
    rid = world.residents["li"]
    r = client.patch(f"/api/v1/residents/{rid}", json={"phone": "12345", "id_number": "320102195001091234"}, headers=h)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"phone", "id_number"}
    assert client.get(f"/api/v1/residents/{rid}", headers=h).json()["phone"] == "13712345678"
    r = client.post("/api/v1/residents", json={"household_id": "x", "name": ""}, headers=h)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} >= {"household_id", "name"}


def test_create_derives_birth_and_gender_and_rejects_duplicates(client, world):
    h = login(client, "gridworker1")
    body = {"household_id": world.households["H2"], "name": "李小红", "id_number": "11010519491231002x"}
    r = client.post("/api/v1/residents", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["birth_date"] == "1949-12-31" and r.json()["gender"] == "F"
    assert client.post("/api/v1/residents", json=body, headers=h).status_code == 409
    outside = {**body, "household_id": world.households["H4"], "id_number": None}
    assert client.post("/api/v1/residents", json=outside, headers=h).status_code == 422


def test_delete_is_undoable(client, world):
    h = login(client, "secretary")
    rid = world.residents["zhao"]
    assert client.delete(f"/api/v1/residents/{rid}", headers=h).status_code == 200
    assert client.get(f"/api/v1/residents/{rid}", headers=h).status_code == 404
    assert "赵强" not in {x["name"] for x in client.get("/api/v1/residents", headers=h).json()["items"]}
    assert client.post(f"/api/v1/residents/{rid}/restore", headers=h).status_code == 200
    assert client.get(f"/api/v1/residents/{rid}", headers=h).status_code == 200


def test_search_by_phone_and_id_only_for_roles_that_see_them(client, world):
    staff = login(client, "secretary")
    full_id = client.get(f"/api/v1/residents/{world.residents['wang']}", headers=staff).json()["id_number"]
    found = client.get("/api/v1/residents", params={"q": full_id}, headers=staff).json()["items"]
    assert [x["name"] for x in found] == ["王建国"]
    found = client.get("/api/v1/residents", params={"q": "13712345678"}, headers=staff).json()["items"]
    assert [x["name"] for x in found] == ["李梅"]
    street = login(client, "street")
    assert client.get("/api/v1/residents", params={"q": full_id}, headers=street).status_code == 422
    assert client.get("/api/v1/residents", params={"q": "王"}, headers=street).json()["total"] == 2


def test_filters_sort_and_pagination(client, world):
    h = login(client, "street")
    body = client.get("/api/v1/residents", params={"tag": "aged80", "sort": "-birth_date"}, headers=h).json()
    assert [x["name"] for x in body["items"]] == ["王建国", "陈芳"]
    page2 = client.get("/api/v1/residents", params={"size": 2, "page": 2, "sort": "name"}, headers=h).json()
    assert page2["total"] == 5 and page2["pages"] == 3 and len(page2["items"]) == 2
    assert client.get("/api/v1/residents", params={"size": 0}, headers=h).status_code == 422
    assert client.get("/api/v1/residents", params={"tag": "nope"}, headers=h).status_code == 422
    assert client.get("/api/v1/residents", params={"sort": "phone"}, headers=h).status_code == 422


def test_patch_cannot_blank_required_fields(client, world):
    h = login(client, "secretary")
    r = client.patch(f"/api/v1/residents/{world.residents['li']}", json={"name": None, "mobility": None}, headers=h)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"name", "mobility"}


def test_audit_trail_keeps_the_readers_masks(client, world):
    client.patch(
        f"/api/v1/residents/{world.residents['li']}", json={"phone": "13700001111"}, headers=login(client, "secretary")
    )
    trail = client.get(f"/api/v1/residents/{world.residents['li']}/audit", headers=login(client, "street")).json()
    update = next(e for e in trail if e["action"] == "update")
    assert update["before"] == {"phone": "137****5678"} and update["after"] == {"phone": "137****1111"}
    create = next(e for e in trail if e["action"] == "create")
    assert "*" in create["after"]["id_number"]


def test_health_tags_cannot_be_listed_by_roles_that_do_not_see_health(client, world):
    street = login(client, "street")
    assert client.get("/api/v1/residents", params={"tag": "chronic"}, headers=street).status_code == 422
    assert client.get("/api/v1/residents", params={"tag": "aged60"}, headers=street).status_code == 200
    grid = login(client, "gridworker1")
    names = [
        x["name"] for x in client.get("/api/v1/residents", params={"tag": "chronic"}, headers=grid).json()["items"]
    ]
    assert names == ["王建国"]
