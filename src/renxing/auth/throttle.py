"""Throttled logins: failures are counted by the account name tried and by the client address.

After a few failures each further attempt must wait (twice as long each time), answered as 429
with Retry-After rather than by sleeping in a server thread; at a threshold the account, or the
address, is locked for a while. Only failures count: a user who logs in a hundred times a day
never waits, and a successful login clears the account's count. Attempts refused by a delay or
a lock are not counted either (the password is not even checked), so a lock ends when it says.

Failures are written in a transaction of their own: the request that reports the failure is
rolled back (it ends in an error), and the count must survive that.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import LoginFailure
from renxing.config import Settings, get_settings
from renxing.db import utcnow
from renxing.errors import FieldError, TooManyRequests
from renxing.i18n import _

# The time as the throttle sees it; tests replace it to move past a delay or a lock.
clock: Callable[[], datetime] = utcnow

# Enough rows to judge one account or address: failures stop being written during a lock.
_ROWS = 1000


@dataclass(frozen=True)
class Limits:
    kind: str  # account | address
    free: int  # failures allowed without a wait
    lock: int  # failures within the window that lock
    field: str  # the field an error names
    who: str  # who is throttled, in the language of the request


def _limits(settings: Settings) -> tuple[Limits, Limits]:
    account = Limits(
        "account",
        settings.login_free_failures,
        settings.login_lock_failures,
        "username",
        _("该账号"),
    )
    address = Limits(
        "address",
        settings.login_address_free_failures,
        settings.login_address_lock_failures,
        "request",
        _("此网络地址"),
    )
    return account, address


@dataclass(frozen=True)
class State:
    """What the failures of one account or address say at ``now``."""

    count: int  # failures that still count (within the window, after the last lock ended)
    last: datetime | None  # the newest failure
    locked_until: datetime | None  # in the future while locked


def _state(rows: Sequence[tuple[datetime, datetime | None]], now: datetime, settings: Settings) -> State:
    """``rows``: (at, locked_until) of the failures, newest first."""
    lock_end = max((until for _, until in rows if until is not None), default=None)
    since = now - timedelta(minutes=settings.login_window_minutes)
    if lock_end is not None:
        since = max(since, lock_end)  # after a lock the count starts again
    counted = [at for at, _ in rows if at > since]
    return State(
        count=len(counted),
        last=counted[0] if counted else None,
        locked_until=lock_end if lock_end is not None and lock_end > now else None,
    )


def _rows(session: Session, column, value: str, now: datetime, locked, settings: Settings):
    horizon = now - timedelta(minutes=settings.login_window_minutes + settings.login_lock_minutes)
    stmt = (
        select(LoginFailure.at, locked)
        .where(column == value, LoginFailure.at > horizon)
        .order_by(LoginFailure.at.desc())
        .limit(_ROWS)
    )
    return [tuple(r) for r in session.execute(stmt)]


def _states(session: Session, username: str, address: str, now: datetime, settings: Settings) -> tuple[State, State]:
    account = _rows(session, LoginFailure.username, username, now, LoginFailure.account_locked_until, settings)
    by_address = _rows(session, LoginFailure.address, address, now, LoginFailure.address_locked_until, settings)
    return _state(account, now, settings), _state(by_address, now, settings)


def delay_seconds(failures: int, free: int, settings: Settings) -> int:
    """The wait owed after ``failures`` counted failures: none up to ``free``, then doubling."""
    if failures < free:
        return 0
    return min(settings.login_delay_seconds * 2 ** (failures - free), settings.login_max_delay_seconds)


def _local(at: datetime, settings: Settings) -> str:
    return at.astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M")


def _locked(limits: Limits, until: datetime, now: datetime, settings: Settings) -> TooManyRequests:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    message = _("{who}登录失败次数过多，已临时锁定，请于 {local}（{minutes} 分钟后）再试").format(
        who=limits.who, local=_local(until, settings), minutes=minutes
    )
    return TooManyRequests(message, seconds, [FieldError(limits.field, message)])


def _wait(limits: Limits, seconds: int) -> TooManyRequests:
    message = _("{who}登录失败次数较多，请 {seconds} 秒后再试").format(who=limits.who, seconds=seconds)
    return TooManyRequests(message, seconds, [FieldError(limits.field, message)])


def check(session: Session, username: str, address: str) -> None:
    """Refuse (429) an attempt that comes during a lock or before the wait owed has passed."""
    settings = get_settings()
    now = clock()
    refusals: list[TooManyRequests] = []
    for limits, state in zip(_limits(settings), _states(session, username[:60], address, now, settings), strict=True):
        if state.locked_until is not None:
            refusals.append(_locked(limits, state.locked_until, now, settings))
        elif state.last is not None:
            ready = state.last + timedelta(seconds=delay_seconds(state.count, limits.free, settings))
            if ready > now:
                refusals.append(_wait(limits, max(1, math.ceil((ready - now).total_seconds()))))
    if refusals:
        raise max(refusals, key=lambda e: e.retry_after)


def record_failure(session: Session, username: str, address: str, user_id: int | None) -> TooManyRequests | None:
    """Count a failure, in its own committed transaction, and audit it; lock the account or the
    address when this failure reaches a threshold. Returns the lock's refusal if there is one.
    Call it before the request's transaction writes anything (one SQLite writer at a time)."""
    settings = get_settings()
    now = clock()
    name = username[:60]
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    account_limits, address_limits = _limits(settings)
    lock_for = timedelta(minutes=settings.login_lock_minutes)
    with Session(engine) as own, own.begin():
        account, by_address = _states(own, name, address, now, settings)
        account_lock = now + lock_for if account.count + 1 >= account_limits.lock else None
        address_lock = now + lock_for if by_address.count + 1 >= address_limits.lock else None
        own.add(
            LoginFailure(
                at=now,
                username=name,
                address=address,
                account_locked_until=account_lock,
                address_locked_until=address_lock,
            )
        )
        # Nothing older than the window and a lock can matter any more.
        horizon = now - timedelta(minutes=settings.login_window_minutes + settings.login_lock_minutes)
        own.execute(delete(LoginFailure).where(LoginFailure.at < horizon))
        detail = {"username": name, "address": address}
        audit.record_anonymous(own, name, "login_failed", "user", user_id, summary=f"address {address}", after=detail)
        refusal = None
        for limits, until, count in (
            (address_limits, address_lock, by_address.count + 1),
            (account_limits, account_lock, account.count + 1),
        ):
            if until is not None:
                summary = f"{limits.kind} locked until {until.isoformat()} after {count} failures"
                audit.record_anonymous(
                    own,
                    name,
                    "login_locked",
                    "user",
                    user_id,
                    summary=summary,
                    after={**detail, "until": until.isoformat()},
                )
                refusal = _locked(limits, until, now, settings)
    return refusal


def clear_account(session: Session, username: str) -> None:
    """A successful login: the account's failures stop counting (the address keeps them)."""
    session.execute(
        update(LoginFailure)
        .where(LoginFailure.username == username[:60])
        .values(username=None)
        .execution_options(synchronize_session=False)
    )


def client_address(peer: str | None, forwarded_for: str | None, settings: Settings | None = None) -> str:
    """The client's address: the connection's peer, or, when the peer is a trusted reverse proxy,
    the nearest address in X-Forwarded-For that is not itself a trusted proxy."""
    settings = settings or get_settings()
    trusted = {p.strip() for p in settings.trusted_proxies.split(",") if p.strip()}
    address = peer or "unknown"
    if address in trusted and forwarded_for:
        for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
            address = hop
            if hop not in trusted:
                break
    return address[:64]
