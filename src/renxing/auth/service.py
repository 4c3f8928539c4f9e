"""Use cases of authentication: users, logins, sessions, and turning a user into a Principal."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session

from renxing.auth import audit, throttle
from renxing.auth.models import AuthSession, User, UserScope
from renxing.auth.passwords import MIN_PASSWORD, hash_password, needs_rehash, verify_password
from renxing.auth.policy import HOUSEHOLD_SCOPED, Perm, Role
from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import Collector, Conflict, NotAuthenticated, NotFound
from renxing.grid.models import GridUnit, Household
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.people.models import Resident

# Accounts whose scope is the household of the resident they are linked to.
HOUSEHOLD_ROLES = sorted(r.value for r in HOUSEHOLD_SCOPED)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    actor: Principal,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    scope_unit_ids: list[int] | None = None,
    resident_id: int | None = None,
    phone: str | None = None,
) -> User:
    actor.require(Perm.users_manage)
    errors = Collector()
    if not username or len(username) > 60:
        errors.add("username", _("用户名必填，最多60字符"))
    if len(password) < MIN_PASSWORD:
        errors.add("password", _("密码至少{min_password}位").format(min_password=MIN_PASSWORD))
    if role is Role.resident and resident_id is None:
        errors.add("resident_id", _("居民账号须关联居民"))
    errors.raise_if_any()
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(_("用户名 {username} 已存在").format(username=username))
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        display_name=display_name,
        resident_id=resident_id,
        phone=phone,
    )
    session.add(user)
    session.flush()
    for unit_id in scope_unit_ids or []:
        session.add(UserScope(user_id=user.id, unit_id=unit_id))
    audit.record(session, actor, "create", "user", user.id, after={"username": username, "role": role.value})
    return user


def authenticate(session: Session, username: str, password: str, *, address: str) -> User:
    """The user behind a name and password, throttled by that name and by the client ``address``
    (the login form and the token endpoint both come here): during a wait or a lock the attempt
    is refused with 429 before the password is checked, so the right one does not get in either."""
    throttle.check(session, username, address)
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and user.is_active:
        if verify_password(user.password_hash, password):
            throttle.clear_account(session, username)
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            return user
    else:
        # Verify against a dummy hash when the user is unknown so timing does not reveal which.
        verify_password(_DUMMY_HASH, password)
    locked = throttle.record_failure(session, username, address, user.id if user is not None else None)
    raise locked or NotAuthenticated(_("用户名或密码错误"))


_DUMMY_HASH = hash_password("not-a-real-password")


def start_session(session: Session, user: User, kind: str) -> tuple[str, AuthSession]:
    """Issue a random token; the database keeps only its hash, so logout can revoke it."""
    settings = get_settings()
    token = secrets.token_urlsafe(32)
    hours = settings.session_hours if kind == "cookie" else settings.token_hours
    now = utcnow()
    row = AuthSession(
        token_hash=_hash_token(token),
        user_id=user.id,
        kind=kind,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(row)
    user.last_login_at = now
    principal = principal_for(session, user)
    audit.record(session, principal, "login", "user", user.id, summary=kind)
    return token, row


def resolve_token(session: Session, token: str) -> tuple[Principal, AuthSession]:
    """The principal behind a login token and its session row. Every authenticated request
    asks this, so the session, its user and (for a resident) the household come in one query."""
    found = session.execute(
        select(AuthSession, User, Household.id, Household.path)
        .join(User, User.id == AuthSession.user_id)
        .outerjoin(Resident, and_(Resident.id == User.resident_id, User.role.in_(HOUSEHOLD_ROLES)))
        .outerjoin(Household, Household.id == Resident.household_id)
        .where(AuthSession.token_hash == _hash_token(token))
    ).first()
    if found is None or found[0].revoked_at is not None or found[0].expires_at <= utcnow():
        raise NotAuthenticated(_("登录已失效，请重新登录"))
    row, user, household_id, path = found
    if not user.is_active:
        raise NotAuthenticated(_("账号已停用"))
    household = (household_id, path) if household_id is not None else None
    return principal_for(session, user, household=household), row


def end_session(session: Session, token: str) -> None:
    row = session.scalar(select(AuthSession).where(AuthSession.token_hash == _hash_token(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


def purge_expired(session: Session) -> int:
    result = session.execute(delete(AuthSession).where(AuthSession.expires_at <= utcnow()))
    return result.rowcount or 0


def principal_for(session: Session, user: User, *, household: tuple[int, str] | None = None) -> Principal:
    """What the service layer checks against; ``household`` (id, path) when already read."""
    role = Role(user.role)
    household_id = None
    scope_paths: tuple[str, ...] = ()
    if role in HOUSEHOLD_SCOPED and user.resident_id is not None:
        if household is None:
            household = session.execute(
                select(Household.id, Household.path)
                .join(Resident, Resident.household_id == Household.id)
                .where(Resident.id == user.resident_id)
            ).first()
        if household is not None:
            household_id, path = household
            scope_paths = (path,)
    else:
        paths = session.scalars(
            select(GridUnit.path).join(UserScope, UserScope.unit_id == GridUnit.id).where(UserScope.user_id == user.id)
        )
        scope_paths = tuple(sorted(paths))
    return Principal(
        user_id=user.id,
        username=user.username,
        role=role,
        scope_paths=scope_paths,
        household_id=household_id,
        resident_id=user.resident_id,
        display_name=user.display_name,
    )


# The accounts' list, for the system administrator.
USERS = ListSpec(
    sorts={
        "username": User.username,
        "display_name": User.display_name,
        "role": User.role,
        "last_login": User.last_login_at,
    },
    default_sort="username",
    tiebreaker=User.id,
    search=(User.username, User.display_name),
    filters={"role": Filter(User.role), "active": Filter(User.is_active)},
)


def list_users(session: Session, actor: Principal, query: ListQuery | None = None) -> Page[User]:
    actor.require(Perm.users_manage)
    return list_page(session, select(User), USERS, query or ListQuery())


def set_active(session: Session, actor: Principal, user_id: int, active: bool) -> User:
    """Disable or re-enable an account; disabling also ends its open sessions."""
    actor.require(Perm.users_manage)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("用户 {user_id} 不存在").format(user_id=user_id))
    before = user.is_active
    user.is_active = active
    if not active:
        session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    audit.record(session, actor, "update", "user", user.id, before={"is_active": before}, after={"is_active": active})
    return user
