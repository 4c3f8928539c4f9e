"""Logins are throttled by account and by client address, on the form and the token endpoint
alike: a growing wait (429 with Retry-After), then a lock that even the right password does not
pass, audited; failures only, so logging in often never waits."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from renxing.auth import throttle
from renxing.auth.models import AuditEntry, LoginFailure
from renxing.config import get_settings
from renxing.db import transaction, utcnow
from tests.kit.client import login

GOOD = "test-password"
BAD = "wrong-password"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(throttle, "clock", c)
    return c


@pytest.fixture
def settings(monkeypatch):
    """The live settings, to change a threshold for one test."""
    s = get_settings()
    return lambda **kw: [monkeypatch.setattr(s, k, v) for k, v in kw.items()]


def token(client, username: str, password: str, headers: dict | None = None):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password}, headers=headers)


def form(client, username: str, password: str):
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf},
        follow_redirects=False,
    )


def fail_until_locked(client, clock: Clock, username: str, send=token) -> list[int]:
    """Wrong passwords, each sent as soon as the wait owed allows; returns the waits met."""
    waits = []
    for _ in range(40):
        r = send(client, username, BAD)
        if r.status_code == 429:
            wait = int(r.headers["Retry-After"])
            if wait > get_settings().login_max_delay_seconds:
                return waits
            waits.append(wait)
            clock.advance(wait)
            continue
        assert r.status_code in (401, 303), r.text
    raise AssertionError("never locked")


def audit_actions(engine, action: str) -> list[AuditEntry]:
    with transaction(engine) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_a_growing_wait_then_a_lock_that_the_right_password_does_not_pass(client, world, engine, clock):
    for _ in range(3):  # the first failures cost nothing
        assert token(client, "secretary", BAD).status_code == 401
    r = token(client, "secretary", GOOD)  # too soon: refused before the password is looked at
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert "1 秒后再试" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "username"
    clock.advance(1)
    assert token(client, "secretary", BAD).status_code == 401
    assert token(client, "secretary", BAD).headers["Retry-After"] == "2"
    waits = fail_until_locked(client, clock, "secretary")
    assert waits == [2, 4, 8, 16, 32, 60]  # doubling, capped at a minute
    locked_at = clock.now
    r = token(client, "secretary", GOOD)
    assert r.status_code == 429
    until = (locked_at + timedelta(minutes=15)).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    detail = r.json()["detail"]
    assert f"请于 {until}（15 分钟后）再试" in detail
    assert r.headers["Retry-After"] == "900"
    clock.advance(14 * 60)
    r = token(client, "secretary", GOOD)
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    clock.advance(61)
    assert token(client, "secretary", GOOD).status_code == 200
    # Audited: every wrong password and the lock, on the account; refused attempts are not counted.
    failed = audit_actions(engine, "login_failed")
    assert len(failed) == 10 and {e.entity_id for e in failed} == {world.users["secretary"]}
    assert failed[0].after == {"username": "secretary", "address": "testclient"}
    [lock] = audit_actions(engine, "login_locked")
    assert lock.entity_id == world.users["secretary"] and lock.summary.startswith("account locked until")


def test_the_form_is_throttled_alike_and_shares_the_count(client, world, clock):
    for _ in range(3):
        r = token(client, "gridworker1", BAD)
    r = form(client, "gridworker1", GOOD)  # three failures on the token endpoint count here too
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert "登录失败次数较多，请 1 秒后再试" in r.text
    client.cookies.set("lang", "en")
    assert "try again in 1 s" in form(client, "gridworker1", GOOD).text
    client.cookies.delete("lang")
    clock.advance(1)
    r = form(client, "gridworker1", BAD)
    assert r.status_code == 303 and "error=1" in r.headers["location"]
    fail_until_locked(client, clock, "gridworker1", send=form)
    r = form(client, "gridworker1", GOOD)
    assert r.status_code == 429 and "已临时锁定" in r.text
    assert "rx_session" not in r.headers.get("set-cookie", "")
    assert client.get("/api/v1/auth/me").status_code == 401
    clock.advance(15 * 60 + 1)
    r = form(client, "gridworker1", GOOD)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert client.get("/api/v1/auth/me").json()["username"] == "gridworker1"


def test_unknown_accounts_lock_the_same_way(client, world, clock):
    assert token(client, "nobody", BAD).json() == token(client, "secretary", BAD).json()
    fail_until_locked(client, clock, "nobody")
    fail_until_locked(client, clock, "secretary")
    a, b = token(client, "nobody", BAD), token(client, "secretary", GOOD)
    assert a.status_code == b.status_code == 429
    assert re.sub(r"\d+", "#", a.json()["detail"]) == re.sub(r"\d+", "#", b.json()["detail"])


def test_a_successful_login_clears_the_account_count(client, world, clock):
    for _ in range(3):
        token(client, "secretary", BAD)
    clock.advance(1)
    assert token(client, "secretary", GOOD).status_code == 200
    for _ in range(3):  # a fresh start: three free failures again
        assert token(client, "secretary", BAD).status_code == 401
    assert token(client, "secretary", BAD).status_code == 429


def test_failures_age_out_of_the_window(client, world, engine, clock):
    for _ in range(3):
        token(client, "secretary", BAD)
    clock.advance(15 * 60 + 1)
    for _ in range(3):
        assert token(client, "secretary", BAD).status_code == 401
    clock.advance(16 * 60)
    token(client, "secretary", BAD)
    # Rows past the window and a lock are purged as new failures come in.
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == 4


def test_frequent_successful_logins_never_wait(client, world):
    for _ in range(30):
        login(client, "secretary")
    assert form(client, "secretary", GOOD).status_code == 303


def test_an_address_is_throttled_across_accounts(client, world, engine, clock, settings):
    accounts = ["admin", "street", "secretary", "staff2", "gridworker1", "leader1", "volunteer1", "partner1"]
    settings(login_address_free_failures=4, login_address_lock_failures=8)
    for name in accounts[:4]:  # one failure each: no account waits, the address has had its free ones
        assert token(client, name, BAD).status_code == 401
    r = token(client, "resident1", GOOD)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert "此网络地址" in r.json()["detail"] and r.json()["errors"][0]["field"] == "request"
    for name in accounts[4:]:
        clock.advance(60)
        assert token(client, name, BAD).status_code in (401, 429)
    r = token(client, "resident1", GOOD)
    assert r.status_code == 429 and "已临时锁定" in r.json()["detail"] and r.headers["Retry-After"] == "900"
    [lock] = audit_actions(engine, "login_locked")
    assert lock.summary.startswith("address locked until") and lock.after["address"] == "testclient"
    # X-Forwarded-For is only believed from a trusted proxy.
    elsewhere = {"X-Forwarded-For": "203.0.113.9"}
    assert token(client, "resident1", GOOD, elsewhere).status_code == 429
    settings(trusted_proxies="10.0.0.1, testclient")
    assert token(client, "resident1", GOOD, elsewhere).status_code == 200
    clock.advance(15 * 60 + 1)
    assert token(client, "resident1", GOOD).status_code == 200


def test_client_address_behind_proxies():
    s = get_settings().model_copy(update={"trusted_proxies": "10.0.0.1,10.0.0.2"})
    assert throttle.client_address("198.51.100.7", "1.2.3.4", s) == "198.51.100.7"
    assert throttle.client_address("10.0.0.1", "1.2.3.4, 203.0.113.9", s) == "203.0.113.9"
    assert throttle.client_address("10.0.0.1", "1.2.3.4, 203.0.113.9, 10.0.0.2", s) == "203.0.113.9"
    assert throttle.client_address("10.0.0.1", None, s) == "10.0.0.1"
    assert throttle.client_address(None, None, s) == "unknown"
