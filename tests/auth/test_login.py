"""Logins: argon2 hashes, bearer tokens, cookie sessions with CSRF, logout that revokes."""

from sqlalchemy import select

from renxing.auth.models import User
from renxing.db import transaction
from tests.kit.client import login


def test_passwords_are_argon2id(engine, world):
    with transaction(engine) as s:
        hashes = s.scalars(select(User.password_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_token_flow_and_logout_revokes(client, world):
    h = login(client, "secretary")
    me = client.get("/api/v1/auth/me", headers=h).json()
    assert me["role"] == "community_staff" and me["role_label"]["zh"] == "社区工作者"
    assert client.post("/api/v1/auth/logout", headers=h).status_code == 200
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401


def test_wrong_password_and_unknown_user_look_the_same(client, world):
    a = client.post("/api/v1/auth/token", data={"username": "secretary", "password": "nope-nope"})
    b = client.post("/api/v1/auth/token", data={"username": "nobody", "password": "nope-nope"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_garbage_bearer_token_is_401(client, world):
    r = client.get("/api/v1/residents", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


def _login_form(client):
    page = client.get("/login")
    token = client.cookies.get("rx_csrf")
    assert token and f'value="{token}"' in page.text
    return token


def test_cookie_login_needs_csrf_and_logout_needs_it_too(client, world):
    _login_form(client)
    r = client.post(
        "/login",
        data={"username": "gridworker1", "password": "test-password", "csrf_token": "x"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    token = _login_form(client)
    r = client.post(
        "/login",
        data={"username": "gridworker1", "password": "test-password", "csrf_token": token, "next": "//evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert client.get("/api/v1/auth/me").json()["username"] == "gridworker1"
    assert client.post("/logout", data={"csrf_token": "wrong"}, follow_redirects=False).status_code == 403
    assert client.get("/api/v1/auth/me").status_code == 200


def test_wrong_password_on_the_form_redirects_back(client, world):
    token = _login_form(client)
    r = client.post(
        "/login",
        data={"username": "gridworker1", "password": "bad-password", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "error=1" in r.headers["location"]


def test_api_stays_json_for_browsers(client, world):
    r = client.get("/api/v1/auth/me", headers={"Accept": "text/html"})
    assert r.status_code == 401  # the API stays JSON even for a browser


def test_sysadmin_manages_users_and_disabling_ends_sessions(client, world):
    admin = login(client, "admin")
    r = client.post(
        "/api/v1/users",
        json={
            "username": "newstaff",
            "password": "long-enough-pw",
            "role": "community_staff",
            "display_name": "新同事",
            "scope_unit_ids": [world.units["C1"]],
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    staff = login(client, "newstaff", "long-enough-pw")
    assert client.get("/api/v1/residents", headers=staff).json()["total"] == 4
    assert client.post(f"/api/v1/users/{uid}/disable", headers=admin).status_code == 200
    assert client.get("/api/v1/residents", headers=staff).status_code == 401
    bad = client.post(
        "/api/v1/users",
        json={"username": "x y", "password": "short", "role": "boss", "display_name": ""},
        headers=admin,
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"username", "password", "role", "display_name"}
    assert client.get("/api/v1/users", headers=login(client, "secretary")).status_code == 403
