"""What staff configure in the closed loop: categories, deadlines per severity, routing rules;
and the state machine as data, for pages and clients to show.

    list_categories(session)                         create_category / update_category (street)
    list_deadlines(session)                          update_deadline (street)
    list_rules(session, actor)                       create_rule / update_rule / delete_rule (staff)
    states(session), transitions(session)

Categories and deadlines are street-wide (``Perm.settings_street``: the street administrator);
a community may not change or override them. A rule for one unit may be set by staff whose
scope covers that unit (``Perm.settings_community``); a rule for every place only by the street.
"""

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.models import User
from renxing.auth.policy import Perm, Role
from renxing.auth.principal import Principal
from renxing.errors import Collector, Conflict, Forbidden, NotFound
from renxing.events.models import (
    EventCategory,
    ReportState,
    ReportTransition,
    RoutingRule,
    SeverityDeadline,
)
from renxing.events.policy import HandlerKind
from renxing.events.schemas import CategoryIn, CategoryPatch, DeadlinePatch, RuleIn, RulePatch
from renxing.grid.models import DUTY_LEVEL, Duty, GridUnit
from renxing.grid.scope import scope_clause
from renxing.i18n import _

HANDLER_KINDS = ("grid_worker", "party_chain", "property", "utility", "police", "volunteer_team", "community", "other")
PLACE_LEVELS = ("household", "building", "area", "compound", "community")


def _require_config(actor: Principal) -> None:
    if not (actor.can(Perm.settings_community) or actor.can(Perm.settings_street)):
        raise Forbidden(_("只有社区工作者和街道管理员可以配置"))


def _require_street(actor: Principal) -> None:
    """Categories and deadlines drive routing and escalation in every community of the street."""
    if not actor.can(Perm.settings_street):
        raise Forbidden(_("此项为街道统一设置，由街道管理员维护，社区不能修改或覆盖"))


# ---- categories -------------------------------------------------------------------------


def list_categories(session: Session, *, include_inactive: bool = False) -> list[EventCategory]:
    stmt = select(EventCategory).order_by(EventCategory.sort_order, EventCategory.id)
    if not include_inactive:
        stmt = stmt.where(EventCategory.active.is_(True))
    return list(session.scalars(stmt))


def get_category(session: Session, code: str) -> EventCategory:
    cat = session.scalar(select(EventCategory).where(EventCategory.code == code))
    if cat is None:
        raise NotFound(_("类别 {code} 不存在").format(code=code))
    return cat


def _check_category(session: Session, values: dict[str, Any], errors: Collector) -> None:
    sev = values.get("default_severity")
    if sev is not None and session.get(SeverityDeadline, sev) is None:
        errors.add("default_severity", _("紧急程度无效"), value=sev)
    kind = values.get("handler_kind")
    if kind is not None and kind not in HANDLER_KINDS:
        errors.add("handler_kind", _("应为 {join} 之一").format(join=", ".join(HANDLER_KINDS)), value=kind)


def create_category(session: Session, actor: Principal, data: CategoryIn) -> EventCategory:
    _require_street(actor)
    values = data.model_dump()
    errors = Collector()
    _check_category(session, values, errors)
    errors.raise_if_any()
    if session.scalar(select(EventCategory.id).where(EventCategory.code == data.code)) is not None:
        raise Conflict(_("类别编码 {code} 已存在").format(code=data.code))
    cat = EventCategory(**values, editable=True)
    session.add(cat)
    session.flush()
    audit.record(session, actor, "create", "event_category", cat.id, after=audit.snapshot(cat))
    return cat


def update_category(session: Session, actor: Principal, code: str, patch: CategoryPatch) -> EventCategory:
    _require_street(actor)
    cat = get_category(session, code)
    if not cat.editable and not actor.is_system:
        raise Forbidden(_("类别 {code} 由系统维护").format(code=code))
    changes = patch.model_dump(exclude_unset=True)
    errors = Collector()
    _check_category(session, changes, errors)
    errors.raise_if_any()
    before = audit.snapshot(cat)
    for key, value in changes.items():
        setattr(cat, key, value)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(cat))
    new.pop("updated_at", None)
    old.pop("updated_at", None)
    if new:
        audit.record(session, actor, "update", "event_category", cat.id, before=old, after=new)
    return cat


# ---- deadlines --------------------------------------------------------------------------


def list_deadlines(session: Session) -> list[SeverityDeadline]:
    return list(session.scalars(select(SeverityDeadline).order_by(SeverityDeadline.rank)))


def update_deadline(session: Session, actor: Principal, severity: str, patch: DeadlinePatch) -> SeverityDeadline:
    _require_street(actor)
    row = session.get(SeverityDeadline, severity)
    if row is None:
        raise NotFound(_("紧急程度 {severity} 不存在").format(severity=severity))
    changes = patch.model_dump(exclude_unset=True)
    merged = {k: changes.get(k, getattr(row, k)) for k in ("accept_minutes", "on_site_minutes", "resolve_minutes")}
    errors = Collector()
    for key, value in merged.items():
        if value is None or not 1 <= value <= 60 * 24 * 90:
            errors.add(key, _("应为1分钟到90天"), value=value)
    if not errors.errors and not merged["accept_minutes"] <= merged["on_site_minutes"] <= merged["resolve_minutes"]:
        errors.add("on_site_minutes", _("须满足 受理 ≤ 到场 ≤ 办结"))
    errors.raise_if_any()
    before = audit.snapshot(row, list(merged))
    for key, value in merged.items():
        setattr(row, key, value)
    audit.record(session, actor, "update", "severity_deadline", None, summary=severity, before=before, after=merged)
    return row


# ---- routing rules ----------------------------------------------------------------------


def list_rules(session: Session, actor: Principal) -> list[RoutingRule]:
    """The rules for every place and those of units in the actor's scope, by priority."""
    _require_config(actor)
    stmt = select(RoutingRule).order_by(RoutingRule.priority, RoutingRule.id)
    in_scope = scope_clause(GridUnit.path, actor)
    if in_scope is not None:
        stmt = stmt.outerjoin(GridUnit, GridUnit.id == RoutingRule.unit_id).where(
            or_(RoutingRule.unit_id.is_(None), in_scope)
        )
    return list(session.scalars(stmt))


def _check_rule(session: Session, actor: Principal, v: dict[str, Any]) -> None:
    """A rule as it is or will be: its fields valid (422), then the actor's right over its place (403)."""
    errors = Collector()
    if (
        v.get("category_code") is not None
        and session.scalar(select(EventCategory.id).where(EventCategory.code == v["category_code"])) is None
    ):
        errors.add("category_code", _("未知的事件类别"), value=v["category_code"])
    if v.get("level") is not None and v["level"] not in PLACE_LEVELS:
        errors.add("level", _("应为 {join} 之一").format(join=", ".join(PLACE_LEVELS)), value=v["level"])
    _check_handler(session, v, errors)
    unit = None
    if v.get("unit_id") is not None:
        unit = session.get(GridUnit, v["unit_id"])
        if unit is None:
            errors.add("unit_id", _("网格单元不存在"), value=v["unit_id"])
    if not -1000 <= int(v.get("priority") or 0) <= 100000:
        errors.add("priority", _("优先级超出范围"), value=v.get("priority"))
    errors.raise_if_any()
    if unit is None:
        if not actor.can(Perm.settings_street):
            raise Forbidden(_("全局规则须由街道管理员设置"))
    elif not actor.covers_path(unit.path):
        raise Forbidden(_("网格单元不在您的范围内"))


def _check_handler(session: Session, v: dict[str, Any], errors: Collector) -> None:
    """Whom the rule hands reports to: a duty of the chain, a staff account, or an organization."""
    kind = v.get("handler_kind")
    if kind not in {k.value for k in HandlerKind}:
        errors.add("handler_kind", _("应为 duty, user, partner, team"), value=kind)
    elif kind == HandlerKind.duty.value:
        try:
            Duty(v.get("duty") or "")
        except ValueError:
            errors.add(
                "duty", _("应为 {join} 之一").format(join=", ".join(d.value for d in DUTY_LEVEL)), value=v.get("duty")
            )
    elif kind == HandlerKind.user.value and v.get("user_id") is None:
        errors.add("user_id", _("须指定人员"))
    elif kind in (HandlerKind.partner.value, HandlerKind.team.value) and not (v.get("org_name") or "").strip():
        errors.add("org_name", _("须填写单位或队伍名称"))
    if v.get("user_id") is not None:
        user = session.get(User, v["user_id"])
        if user is None or not user.is_active or user.role == Role.resident.value:
            errors.add("user_id", _("须为在用的工作人员账号"), value=v["user_id"])


def _get_rule(session: Session, actor: Principal, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_("规则 {rule_id} 不存在").format(rule_id=rule_id))
    return rule


def create_rule(session: Session, actor: Principal, data: RuleIn) -> RoutingRule:
    _require_config(actor)
    values = data.model_dump()
    _check_rule(session, actor, values)
    rule = RoutingRule(**values)
    session.add(rule)
    session.flush()
    audit.record(session, actor, "create", "routing_rule", rule.id, after=audit.snapshot(rule))
    return rule


def update_rule(session: Session, actor: Principal, rule_id: int, patch: RulePatch) -> RoutingRule:
    _require_config(actor)
    rule = _get_rule(session, actor, rule_id)
    before = audit.snapshot(rule)
    _check_rule(session, actor, before)  # may this actor touch the rule as it is now …
    merged = {**before, **patch.model_dump(exclude_unset=True)}
    _check_rule(session, actor, merged)  # … and as it will be
    for key, value in patch.model_dump(exclude_unset=True).items():
        setattr(rule, key, value)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(rule))
    if new:
        audit.record(session, actor, "update", "routing_rule", rule.id, before=old, after=new)
    return rule


def delete_rule(session: Session, actor: Principal, rule_id: int) -> None:
    _require_config(actor)
    rule = _get_rule(session, actor, rule_id)
    before = audit.snapshot(rule)
    _check_rule(session, actor, before)
    session.delete(rule)
    audit.record(session, actor, "delete", "routing_rule", rule_id, before=before)


# ---- the state machine ------------------------------------------------------------------


def states(session: Session) -> list[ReportState]:
    return list(session.scalars(select(ReportState).order_by(ReportState.sort_order)))


def transitions(session: Session) -> list[ReportTransition]:
    return list(session.scalars(select(ReportTransition).order_by(ReportTransition.id)))
