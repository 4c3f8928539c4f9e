"""Sensor rules: create, edit, deactivate, list and read.

A rule covers a kind of device across a community or a street (its ``path``: every device of
that kind below it), or one device (its path and kind). Staff and street administrators who
manage sensors keep the rules of their scope; whoever reads sensors sees the rules that reach
their devices, including those of the units above their scope; what a rule must hold to be evaluated (a threshold,
a rate, ``clear_at`` on the safe side) is the pure module's ``rules.problems``.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import Collector, FieldError, Forbidden, Invalid, NotFound
from renxing.grid import directory as grid_directory
from renxing.grid.models import Level
from renxing.grid.scope import in_scope, path_ids, sees, visible_clause
from renxing.i18n import _
from renxing.listing import Filter, ListQuery, ListSpec, Page, list_page
from renxing.sensors.devices import load_device
from renxing.sensors.models import DEVICE_KIND_LABELS, DeviceKind, RuleType, SensorDevice, SensorRule
from renxing.sensors.rules import RuleSpec, problems
from renxing.sensors.schemas import CATEGORIES, RuleIn, RulePatch

COVERS = (Level.community.value, Level.street.value)  # the units a kind's rule may cover

RULES = ListSpec(
    sorts={
        "name": SensorRule.name,
        "kind": (SensorRule.kind, SensorRule.name),
        "level": (SensorRule.level, SensorRule.name),
        "created": SensorRule.created_at,
    },
    default_sort="kind",
    tiebreaker=SensorRule.id,
    search=(SensorRule.name,),
    filters={
        "kind": Filter(SensorRule.kind, parse=lambda v: DeviceKind(v).value),
        "device_id": Filter(SensorRule.device_id),
        "rule_type": Filter(SensorRule.rule_type, parse=lambda v: RuleType(v).value),
        "active": Filter(SensorRule.active),
    },
)

# What problems() says, in the reader's words.
_WHY = {
    "threshold": lambda: _("阈值规则须填写阈值"),
    "clear_at": lambda: _("解除值须在安全一侧（上限规则不高于阈值，下限规则不低于阈值；变化率规则在 0 与变化率之间）"),
    "rate_per_minute": lambda: _("变化率规则须填写大于 0 的每分钟变化量"),
    "window_minutes": lambda: _("时间窗口至少 1 分钟"),
    "snooze_minutes": lambda: _("静默时长不能为负"),
    "direction": lambda: _("方向应为 above 或 below"),
    "rule_type": lambda: _("规则类型应为 threshold 或 rate"),
}


def _unit_of_path(path: str) -> int | None:
    ids = path_ids(path)
    return ids[-1] if ids else None


def list_rules(session: Session, actor: Principal, query: ListQuery) -> Page[SensorRule]:
    """The rules that reach the actor's devices: those of units in scope, and those of the units
    above it (a community's rule applies to the grid worker's buildings too)."""
    actor.require(Perm.sensors_read)
    stmt = select(SensorRule)
    clause = visible_clause(SensorRule.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return list_page(session, stmt, RULES, query)


def load_rule(session: Session, actor: Principal, rule_id: int, *, write: bool = False) -> SensorRule:
    actor.require(Perm.sensors_manage if write else Perm.sensors_read)
    rule = session.get(SensorRule, rule_id)
    if rule is None:
        raise NotFound(_("规则 {rule_id} 不存在").format(rule_id=rule_id))
    if not (in_scope(actor, rule.path) if write else sees(actor, rule.path)):
        raise Forbidden(_("规则 {rule_id} 不在您的网格范围内").format(rule_id=rule_id))
    return rule


def present_all(session: Session, rules: list[SensorRule]) -> list[dict[str, Any]]:
    units = grid_directory.unit_names(session, [u for r in rules if (u := _unit_of_path(r.path))])
    device_ids = sorted({r.device_id for r in rules if r.device_id is not None})
    names = (
        dict(session.execute(select(SensorDevice.id, SensorDevice.name).where(SensorDevice.id.in_(device_ids))).all())
        if device_ids
        else {}
    )
    out = []
    for r in rules:
        unit_id = None if r.device_id is not None else _unit_of_path(r.path)
        out.append(
            {
                "id": r.id,
                "name": r.name,
                "kind": r.kind,
                "kind_label": str(DEVICE_KIND_LABELS.get(DeviceKind(r.kind), r.kind)),
                "path": r.path,
                "unit_id": unit_id,
                "unit": units.get(unit_id) if unit_id else None,
                "device_id": r.device_id,
                "device": names.get(r.device_id) if r.device_id else None,
                "rule_type": r.rule_type,
                "direction": r.direction,
                "threshold": r.threshold,
                "clear_at": r.clear_at,
                "rate_per_minute": r.rate_per_minute,
                "window_minutes": r.window_minutes,
                "snooze_minutes": r.snooze_minutes,
                "level": r.level,
                "category": r.category,
                "active": r.active,
                "created_at": r.created_at.isoformat(),
            }
        )
    return out


# ---- checks ---------------------------------------------------------------------------------------------


def _check(values: dict[str, Any]) -> None:
    """Every field at fault, at once: the rule's evaluability and the closed loop's category."""
    errors = Collector()
    spec = RuleSpec(
        rule_type=values["rule_type"],
        direction=values["direction"],
        threshold=values.get("threshold"),
        clear_at=values.get("clear_at"),
        rate_per_minute=values.get("rate_per_minute"),
        window_minutes=values["window_minutes"],
        snooze_minutes=values["snooze_minutes"],
    )
    for field, _reason in problems(spec):
        errors.add(field, _WHY[field](), value=values.get(field))
    if values["category"] not in CATEGORIES:
        errors.add("category", _("应为 {join} 之一").format(join=", ".join(CATEGORIES)), value=values["category"])
    errors.raise_if_any()


def _coverage(session: Session, actor: Principal, data: RuleIn) -> tuple[str, str, int | None]:
    """(path, kind, device id) of a new rule: one device, or a kind across a unit in write scope."""
    if data.device_id is not None:
        if data.unit_id is not None:
            why = _("规则针对单个设备时不填社区")
            raise Invalid(why, [FieldError("unit_id", why, value=data.unit_id)])
        device = load_device(session, actor, data.device_id, write=True)
        if data.kind is not None and data.kind.value != device.kind:
            why = _("设备类型为 {kind}").format(kind=device.kind)
            raise Invalid(why, [FieldError("kind", why, value=data.kind.value)])
        return device.path, device.kind, device.id
    errors = Collector()
    if data.kind is None:
        errors.add("kind", _("请选择设备类型"))
    if data.unit_id is None:
        errors.add("unit_id", _("请选择社区，或指定单个设备"))
    errors.raise_if_any()
    assert data.unit_id is not None and data.kind is not None
    unit = grid_directory.unit(session, data.unit_id)
    if unit is None or unit.level not in COVERS:
        why = _("规则须覆盖社区或街道")
        raise Invalid(why, [FieldError("unit_id", why, value=data.unit_id)])
    if not in_scope(actor, unit):
        raise Forbidden(_("网格单元 {unit_id} 不在您的网格范围内").format(unit_id=data.unit_id))
    return unit.path, data.kind.value, None


# ---- writes ------------------------------------------------------------------------------------------------


def create_rule(session: Session, actor: Principal, data: RuleIn, *, now: datetime | None = None) -> SensorRule:
    actor.require(Perm.sensors_manage)
    path, kind, device_id = _coverage(session, actor, data)
    values = data.model_dump(exclude={"kind", "unit_id", "device_id"})
    _check(values)
    rule = SensorRule(
        **values,
        kind=kind,
        path=path,
        device_id=device_id,
        active=True,
        created_by=actor.user_id,
        created_at=now or utcnow(),
    )
    session.add(rule)
    session.flush()
    audit.record(session, actor, "create", "sensor_rule", rule.id, after=audit.snapshot(rule))
    return rule


def update_rule(session: Session, actor: Principal, rule_id: int, patch: RulePatch) -> SensorRule:
    """Change a rule; its state per device is kept (a triggered rule clears by its new values)."""
    rule = load_rule(session, actor, rule_id, write=True)
    changes = patch.model_dump(exclude_unset=True)
    errors = Collector()
    for key in ("name", "direction", "window_minutes", "snooze_minutes", "level", "category", "active"):
        if key in changes and changes[key] is None:
            errors.add(key, _("不能为空"))
    errors.raise_if_any()
    before = audit.snapshot(rule)
    values = {**before, **changes}
    _check(values)
    for key, value in changes.items():
        setattr(rule, key, value)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(rule))
    if new:
        audit.record(session, actor, "update", "sensor_rule", rule.id, before=old, after=new)
    return rule


def deactivate_rule(session: Session, actor: Principal, rule_id: int) -> SensorRule:
    return update_rule(session, actor, rule_id, RulePatch(active=False))
