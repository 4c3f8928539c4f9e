"""A person's request under PIPL as each domain sees it: who it is about, and the part each
domain answers for its own tables.

A domain that keeps rows about a resident declares, in its own ``personal_data.py``, one
:class:`PersonalData`: what it gives in a copy of the person's data (``export``), how it forgets
them (``erase``, returning how many rows it changed), and what it drops when its retention
period ends (``purge``). :mod:`renxing.people.subject_rights` checks the request, asks every
domain listed there in turn, in the caller's transaction, and audits the request once::

    def export(session: Session, subject: Subject) -> dict[str, Any]:
        return {"care_plans": [...]}

    def erase(session: Session, subject: Subject) -> dict[str, int]:
        return {"care_visits": changed}

    PROVIDER = PersonalData("care", export=export, erase=erase)

No permission check inside a provider: the request was checked once, for the whole of it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Subject:
    """The resident a request is about."""

    resident_id: int
    account_ids: tuple[int, ...]  # the accounts linked to them (reports are filed by accounts)
    erased_name: str  # what their rows are called once erased, e.g. "已删除居民 #12"


@dataclass(frozen=True)
class Retention:
    """How long data is kept (``docs/security.md``); each domain applies the periods it owns."""

    audit_days: int
    deleted_resident_days: int


Export = Callable[[Session, Subject], dict[str, Any]]
Erase = Callable[[Session, Subject], dict[str, int]]
Purge = Callable[[Session, datetime, Retention], dict[str, int]]


def _nothing(session: Session, now: datetime, retention: Retention) -> dict[str, int]:
    return {}


@dataclass(frozen=True)
class PersonalData:
    """One domain's part of a person's request."""

    domain: str
    export: Export  # sections of the copy, by name: lists of JSON-ready rows
    erase: Erase  # counts of rows changed, by name (the request's answer shows them)
    purge: Purge = _nothing  # counts of rows dropped or blanked when their time is up


def iso(value: Any) -> Any:
    """A date or time as ISO 8601 text; anything else as it is."""
    return value.isoformat() if isinstance(value, datetime) else value
