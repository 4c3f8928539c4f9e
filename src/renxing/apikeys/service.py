"""Issuing, listing, revoking and checking API keys.

    key, secret = create_key(session, SYSTEM, "city-311-app")   # secret: shown once, never stored
    verify_key(session, secret)          # the ApiKey, or None when missing, unknown or revoked
    record_use(session, key.id)          # last, so the row lock is held only until the commit
    revoke_key(session, SYSTEM, "city-311-app")

Keys are managed by system administrators (and the command line, which acts as the system).
"""

import hashlib
import secrets
import unicodedata
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from renxing.apikeys.models import ApiKey
from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector, Conflict, NotFound
from renxing.i18n import _

KEY_PREFIX = "rx_"
MIN_KEY_LENGTH = 16
MAX_KEY_LENGTH = 200


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def _clean_name(name: str, errors: Collector) -> str:
    name = (name or "").strip()
    if not name or len(name) > 60:
        errors.add("name", _("名称须为1到60个字符"), value=name)
    elif any(unicodedata.category(ch).startswith("C") for ch in name):
        errors.add("name", _("名称含控制字符"), value=repr(name))
    return name


def create_key(session: Session, actor: Principal, name: str, *, key: str | None = None) -> tuple[ApiKey, str]:
    """A new key for ``name``; returns the row and the key in the clear (only this once).
    ``key`` sets the value instead of drawing one (the demo's well-known key)."""
    actor.require(Perm.users_manage)
    errors = Collector()
    name = _clean_name(name, errors)
    secret = new_secret() if key is None else key
    if not MIN_KEY_LENGTH <= len(secret) <= MAX_KEY_LENGTH or secret != secret.strip():
        errors.add(
            "key",
            _("密钥须为{min_key_length}到{max_key_length}个字符").format(
                min_key_length=MIN_KEY_LENGTH, max_key_length=MAX_KEY_LENGTH
            ),
        )
    errors.raise_if_any()
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(_("名称 {name} 已存在").format(name=name))
    digest = hash_key(secret)
    if session.scalar(select(ApiKey.id).where(ApiKey.key_hash == digest)) is not None:
        raise Conflict(_("该密钥已在使用"))
    row = ApiKey(name=name, key_hash=digest, prefix=secret[:8], created_at=utcnow(), use_count=0)
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "api_key", row.id, summary=name, after={"name": name, "prefix": row.prefix})
    return row, secret


def list_keys(session: Session, actor: Principal) -> list[ApiKey]:
    actor.require(Perm.users_manage)
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, actor: Principal, name: str, *, now: datetime | None = None) -> ApiKey:
    """Stop a key from working; the row stays, so its history can still be read."""
    actor.require(Perm.users_manage)
    row = session.scalar(select(ApiKey).where(ApiKey.name == (name or "").strip()))
    if row is None:
        raise NotFound(_("API 密钥 {name} 不存在").format(name=name))
    if row.revoked_at is not None:
        raise Conflict(_("API 密钥 {name} 已吊销").format(name=name))
    row.revoked_at = now or utcnow()
    audit.record(
        session, actor, "revoke", "api_key", row.id, summary=row.name, after={"revoked_at": row.revoked_at.isoformat()}
    )
    return row


def verify_key(session: Session, key: str | None) -> ApiKey | None:
    """The active key matching ``key`` (read only; see :func:`record_use`)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)))


def record_use(session: Session, key_id: int, *, now: datetime | None = None) -> None:
    """Count one accepted request. A counter, not an audited change: the request's own write
    (e.g. the report it created) is audited."""
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .values(last_used_at=now or utcnow(), use_count=ApiKey.use_count + 1)
        .execution_options(synchronize_session=False)
    )
