"""The partner register: staff add and edit in scope, others read, bad input names the field."""

from tests.kit.client import login


def test_create_list_update(world, client):
    w = world
    staff = login(client, "secretary")
    body = {
        "unit_id": w.units["C1"],
        "name": "阳光社区卫生服务站",
        "kind": "clinic",
        "contact_name": "刘医生",
        "contact_phone": "025-8888 6666",
        "services": "急救培训、慢病随访",
        "user_id": w.users["partner1"],
    }
    r = client.post("/api/v1/partners", json=body, headers=staff)
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["contact_phone"] == "025-88886666" and org["active"] is True
    assert client.post("/api/v1/partners", json=body, headers=staff).status_code == 409
    r = client.post(
        "/api/v1/partners",
        json={**body, "name": "x", "kind": "bank", "contact_phone": "12", "user_id": w.users["secretary"]},
        headers=staff,
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"kind", "contact_phone", "user_id"}
    r = client.post("/api/v1/partners", json={**body, "unit_id": w.units["B1"], "name": "y"}, headers=staff)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unit_id"
    # Another community's staff may not add here; volunteers and residents may not write at all.
    assert (
        client.post("/api/v1/partners", json={**body, "name": "z"}, headers=login(client, "staff2")).status_code == 403
    )
    assert (
        client.post("/api/v1/partners", json={**body, "name": "z"}, headers=login(client, "volunteer1")).status_code
        == 403
    )

    assert client.get("/api/v1/partners", headers=login(client, "volunteer1")).json()["total"] == 1
    assert client.get("/api/v1/partners", headers=login(client, "gridworker1")).json()["total"] == 1
    assert client.get("/api/v1/partners", headers=login(client, "staff2")).json()["total"] == 0
    assert client.get(f"/api/v1/partners/{org['id']}", headers=login(client, "staff2")).status_code == 404
    assert client.get("/api/v1/partners", headers=login(client, "resident1")).status_code == 403
    assert client.get("/api/v1/partners", params={"kind": "bank"}, headers=staff).status_code == 422

    r = client.patch(f"/api/v1/partners/{org['id']}", json={"active": False, "name": "阳光卫生服务站"}, headers=staff)
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get("/api/v1/partners", params={"active": True}, headers=staff).json()["total"] == 0
    assert client.patch(f"/api/v1/partners/{org['id']}", json={"name": None}, headers=staff).status_code == 422
    assert (
        client.patch(
            f"/api/v1/partners/{org['id']}", json={"active": True}, headers=login(client, "gridworker1")
        ).status_code
        == 403
    )
