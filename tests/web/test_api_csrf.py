"""The JSON API does not trust a session cookie alone: a cookie-authenticated write must carry
the session's CSRF token in ``X-CSRF-Token``, JSON routes take only JSON bodies, and bearer-token
clients are unaffected."""

import json

import pytest

from tests.kit.client import login, page_login

HEADER = "X-CSRF-Token"


def _report(world) -> dict:
    return {"category": "fire_hazard", "description": "楼道堆放杂物", "unit_id": str(world.units["B1"])}


def _attacks(client, world, headers: dict[str, str]) -> dict[str, object]:
    """The five writes a page on another site could make with the victim's cookie."""
    report = _report(world)
    multipart = [(k, (None, v)) for k, v in report.items()]
    as_text = json.dumps(report, ensure_ascii=False).encode()
    wang = world.residents["wang"]
    return {
        "form": client.post("/api/v1/reports", data=report, headers=headers),
        "multipart": client.post("/api/v1/reports", files=multipart, headers=headers),
        "text/plain": client.post(
            "/api/v1/reports", content=as_text, headers={**headers, "Content-Type": "text/plain;charset=UTF-8"}
        ),
        "patch": client.patch(f"/api/v1/residents/{wang}", json={"notes": "被改了"}, headers=headers),
        "read-all": client.post("/api/v1/notifications/read-all", headers=headers),
    }


def test_cookie_writes_without_the_header_are_refused(client, world):
    page_login(client, "secretary")
    results = _attacks(client, world, {})
    statuses = {name: r.status_code for name, r in results.items()}
    assert statuses == {"form": 403, "multipart": 403, "text/plain": 415, "patch": 403, "read-all": 403}
    for name in ("form", "multipart", "patch", "read-all"):
        body = results[name].json()
        assert HEADER in body["detail"] and [e["field"] for e in body["errors"]] == [HEADER], name
    assert [e["field"] for e in results["text/plain"].json()["errors"]] == ["body"]
    wang = client.get(f"/api/v1/residents/{world.residents['wang']}").json()
    assert wang.get("notes") != "被改了"
    assert client.get("/api/v1/reports").json()["total"] == 0


def test_a_wrong_or_foreign_token_is_refused_too(client, world):
    other = page_login(client, "gridworker1")
    page_login(client, "secretary")
    for token in ("nope", other, "令牌".encode()):
        r = client.post("/api/v1/notifications/read-all", headers={HEADER: token})
        assert r.status_code == 403, token


def test_the_same_writes_with_the_header_succeed(client, world):
    token = page_login(client, "secretary")
    h = {HEADER: token}
    results = _attacks(client, world, h)
    assert results["form"].status_code == 201, results["form"].text
    assert results["multipart"].status_code == 201, results["multipart"].text
    assert results["patch"].status_code == 200, results["patch"].text
    assert results["read-all"].status_code == 200
    # text/plain stays refused with the header; the same body as JSON goes through.
    assert results["text/plain"].status_code == 415
    assert client.post("/api/v1/reports", json=_report(world), headers=h).status_code == 201
    assert client.get("/api/v1/reports").json()["total"] == 3
    # Reads never needed the header.
    assert client.get("/api/v1/auth/me").status_code == 200


def test_the_page_carries_the_token_for_scripts_and_htmx(client, world):
    token = page_login(client, "secretary")
    page = client.get("/").text
    assert f'<meta name="csrf-token" content="{token}">' in page
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page


def test_bearer_clients_need_no_header(client, world):
    h = login(client, "secretary")
    results = _attacks(client, world, h)
    assert {name: r.status_code for name, r in results.items()} == {
        "form": 201,
        "multipart": 201,
        "text/plain": 415,  # JSON routes take JSON content types, whoever asks
        "patch": 200,
        "read-all": 200,
    }
    # A bearer token wins over a cookie that happens to be there too.
    page_login(client, "gridworker1")
    assert client.post("/api/v1/notifications/read-all", headers=h).status_code == 200


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]
)
def test_json_routes_refuse_other_bodies(client, world, content_type):
    h = login(client, "secretary")
    body = json.dumps({"notes": "x"}).encode()
    headers = {**h, "Content-Type": content_type} if content_type else h
    r = client.patch(f"/api/v1/residents/{world.residents['wang']}", content=body, headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["errors"][0]["field"] == "body"
    # JSON under its own name and the +json suffix are fine.
    for ok in ("application/json", "application/merge-patch+json; charset=utf-8"):
        r = client.patch(
            f"/api/v1/residents/{world.residents['wang']}", content=body, headers={**h, "Content-Type": ok}
        )
        assert r.status_code == 200, (ok, r.text)


def test_form_routes_keep_taking_forms(client, world):
    # The OAuth2 token endpoint is a form by its standard; an upload is multipart.
    h = login(client, "secretary")
    r = client.post("/api/v1/import/residents", files={"file": ("x.csv", b"name\n", "text/csv")}, headers=h)
    assert r.status_code != 415, r.text
    r = client.post("/api/v1/auth/token", content=b"username=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
