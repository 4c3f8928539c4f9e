"""Logging in through the test client: a bearer token for the JSON API, the login form for pages."""

import re

from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CJK = re.compile(r"[\u3400-\u9fff]+")


def login(client: TestClient, username: str, password: str = "test-password") -> dict[str, str]:
    """Headers carrying a bearer token for ``username``."""
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def page_login(client: TestClient, username: str, password: str = "test-password") -> str:
    """Log in as a browser does; returns the session's CSRF token for later forms."""
    client.cookies.clear()
    r = client.get("/login")
    assert r.status_code == 200
    token = CSRF.search(r.text).group(1)
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    client.headers["Accept"] = "text/html"
    home = client.get("/")
    assert home.status_code == 200
    return CSRF.search(home.text).group(1)
