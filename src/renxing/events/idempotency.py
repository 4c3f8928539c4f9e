"""Retries that file nothing new: the ``Idempotency-Key`` of report-creating requests.

    key = read_key(request.headers.get(HEADER), form.get(FORM_FIELD))   # None when not sent
    prior = begin(session, "user:12", key, fingerprint("api", fields, photos))
    if prior is None:                       # the first time: file the report, then
        finish(session, "user:12", key, report.id, answer)
    else:                                   # a retry: answer as the first time (prior.report_id, prior.answer)

A client (a user, an API key) that lost the answer to a report it sent sends the same key
again and gets the first answer back; nothing new is filed. The same key with a different
request is refused (409 on ``Idempotency-Key``), so a client reusing keys by mistake learns
of it instead of being told that its new report exists.

Race-safe on both databases: the key is claimed first, in the request's own transaction,
by ``INSERT … ON CONFLICT DO NOTHING`` on the unique (client, key). A second request with
the key waits for the first's transaction (PostgreSQL waits on the unique index, SQLite on
the one writer), then finds the row and answers from it; if the first failed, its claim
went with its rollback and the second files the report itself.
"""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from renxing.db import utcnow
from renxing.errors import Conflict, FieldError, Invalid
from renxing.events.models import IdempotencyKey
from renxing.i18n import _

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"  # for Open311 clients and forms, which cannot set headers
REPLAYED = "Idempotent-Replayed"  # set to "true" on an answer repeated for a retry
MAX_KEY = 200
_KEY = re.compile(rf"^[\x21-\x7e]{{1,{MAX_KEY}}}$")  # visible ASCII, as in a header


@dataclass(frozen=True)
class Prior:
    """What the first request with the key filed, and its answer when it was kept."""

    report_id: int | None
    answer: Any


def read_key(*values: Any) -> str | None:
    """The first key given (header first, then the form field), checked; None when none is."""
    for value in values:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if not isinstance(value, str) or not _KEY.match(value.strip()):
            msg = _("幂等键须为 1 到 {max_key} 个可见 ASCII 字符").format(max_key=MAX_KEY)
            raise Invalid(msg, [FieldError(HEADER, msg, value=str(value)[:40])])
        return value.strip()
    return None


def fingerprint(route: str, fields: Mapping[str, Any], files: Sequence[bytes] = ()) -> str:
    """A SHA-256 of what a request sent: the route, its fields and its files' digests."""
    payload = {
        "route": route,
        "fields": {k: fields[k] for k in sorted(fields)},
        "files": [hashlib.sha256(f).hexdigest() for f in files],
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _claim(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(IdempotencyKey).on_conflict_do_nothing(index_elements=["client", "key"]).returning(IdempotencyKey.id)


def begin(session: Session, client: str, key: str, fp: str, *, now: datetime | None = None) -> Prior | None:
    """Claim ``key`` for ``client``: None if it is new (go on and file), else the first answer.
    A key already used with another request is a Conflict."""
    values = {"client": client, "key": key, "fingerprint": fp, "created_at": now or utcnow()}
    if session.execute(_claim(session).values(values)).first() is not None:
        return None
    row = session.execute(
        select(IdempotencyKey.fingerprint, IdempotencyKey.report_id, IdempotencyKey.answer).where(
            IdempotencyKey.client == client, IdempotencyKey.key == key
        )
    ).one()
    if row.fingerprint != fp:
        msg = _("此幂等键已用于另一个不同的请求")
        raise Conflict(msg, [FieldError(HEADER, msg, value=key[:40])])
    if row.report_id is None and row.answer is None:  # claimed but never finished: nothing to repeat
        msg = _("此幂等键的请求未完成，请换一个键")
        raise Conflict(msg, [FieldError(HEADER, msg, value=key[:40])])
    return Prior(row.report_id, row.answer)


def finish(session: Session, client: str, key: str, report_id: int | None, answer: Any = None) -> None:
    """Record what the claimed key filed (and the answer, where it must be repeated verbatim).
    A request that may file no report (a care visit without a problem) keeps its answer alone."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.client == client, IdempotencyKey.key == key)
        .values(report_id=report_id, answer=answer)
    )


def release(session: Session, client: str, key: str) -> None:
    """Give the key up again when the request it was claimed for was refused but the
    transaction goes on (a form shown again with its errors): the corrected form may use it."""
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.client == client,
            IdempotencyKey.key == key,
            IdempotencyKey.report_id.is_(None),
            IdempotencyKey.answer.is_(None),
        )
    )
