"""Who may see and act on which warnings sent.

A warning lies at its unit's path (the community, compound or area warned). Readers
(``warnings_read``: grid workers, building leaders, staff, street administrators) see the warnings
of their units and of the units above them, since a warning to the community reaches each of its
areas; drafts, pending and refused warnings only those who compose or approve. Acting on one
(edit, send, approve, update) needs the warned unit inside the actor's scope. A warning outside
what the actor sees is 404; one seen but outside the write scope 403.
"""

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Forbidden, NotFound
from renxing.grid.scope import in_scope, sees, visible_clause
from renxing.i18n import _
from renxing.warning.models import WarningMessage, WarningStatus


def works_on_drafts(actor: Principal) -> bool:
    """Composers and approvers see warnings before they are sent."""
    return actor.can(Perm.warnings_compose) or actor.can(Perm.warnings_approve)


def visible_clause_for(actor: Principal) -> ColumnElement[bool] | None:
    """What narrows a query of warnings to those the actor may read (None: every warning)."""
    clause = visible_clause(WarningMessage.path, actor)
    if works_on_drafts(actor):
        return clause
    sent = WarningMessage.status == WarningStatus.sent.value
    return sent if clause is None else and_(clause, sent)


def visible(actor: Principal) -> Select:
    """Warnings the actor may read, as a statement to narrow further."""
    actor.require(Perm.warnings_read)
    stmt = select(WarningMessage)
    clause = visible_clause_for(actor)
    return stmt if clause is None else stmt.where(clause)


def may_read(actor: Principal, warning: WarningMessage) -> bool:
    if not actor.can(Perm.warnings_read) or not sees(actor, warning.path):
        return False
    return warning.status == WarningStatus.sent.value or works_on_drafts(actor)


def may_write(actor: Principal, warning: WarningMessage) -> bool:
    return in_scope(actor, warning.path)


def warning_in_scope(session: Session, actor: Principal, warning_id: int, *, write: bool = False) -> WarningMessage:
    """The warning, if the actor may read it (404 otherwise) and, with ``write``, act on it (403)."""
    actor.require(Perm.warnings_read)
    warning = session.get(WarningMessage, warning_id)
    if warning is None or not may_read(actor, warning):
        raise NotFound(_("预警 {warning_id} 不存在").format(warning_id=warning_id))
    if write and not may_write(actor, warning):
        raise Forbidden(_("该预警不在您的管理范围内"))
    return warning
