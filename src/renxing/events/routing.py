"""Choosing who handles a report, from plain data. No I/O.

The service gathers the place (its level and grid path), the active rules, the people of the
place's responsibility chain and the staff covering it, and :func:`route` decides:

1. Rules that match the report (category, place level, unit subtree) are tried in order of
   ``priority`` (smaller first), then by how specific they are.
2. A rule names a duty of the chain (e.g. the area's grid worker), a user, or a partner or
   team (with an optional contact user). A rule whose handler has no user account is
   skipped, and the explanation says so.
3. When no rule yields a handler, the fallback: the area's grid worker; else up the chain
   to the first person with a user account; finally a community staff member covering the
   place. Nobody at all leaves the report unassigned for staff to assign.

Every decision carries an explanation (``steps``) that is stored on the report.
"""

from dataclasses import dataclass, field
from typing import Any

from renxing.events.policy import HandlerKind
from renxing.i18n import N_, bilingual

DUTY_ZH = {
    "secretary": "社区书记",
    "branch_secretary": "支部书记",
    "branch_committee": "支委委员",
    "grid_worker": "网格员",
    "party_group_leader": "党小组长",
    "party_member": "党员",
    "street_director": "街道主任",
}
# Duties walked by the fallback, lowest first, after the area's grid worker.
FALLBACK_CHAIN = ["branch_committee", "branch_secretary", "secretary"]


@dataclass(frozen=True)
class Place:
    category_code: str
    level: str  # household | building | area | compound | community
    path: str  # grid path of the deepest unit
    unit_id: int
    household_id: int | None = None


@dataclass(frozen=True)
class Rule:
    id: int
    category_code: str | None
    level: str | None
    unit_path: str | None
    handler_kind: str
    duty: str | None = None
    user_id: int | None = None
    user_label: str | None = None  # None when the user is unknown or inactive
    org_name: str | None = None
    priority: int = 100


@dataclass(frozen=True)
class Holder:
    """A person of the place's chain: the duty they hold and the unit (or household) they answer for."""

    duty: str
    name: str
    user_id: int | None
    unit_name: str


@dataclass(frozen=True)
class Staff:
    user_id: int
    label: str


@dataclass
class Decision:
    user_id: int | None
    label: str | None
    kind: str | None
    rule_id: int | None
    steps: list[str] = field(default_factory=list)

    def explanation(self, place: Place) -> dict[str, Any]:
        return {
            "place": {"level": place.level, "path": place.path, "unit_id": place.unit_id},
            "rule_id": self.rule_id,
            "handler": self.label,
            "steps": self.steps,
        }


def matches(rule: Rule, place: Place) -> bool:
    return (
        (rule.category_code is None or rule.category_code == place.category_code)
        and (rule.level is None or rule.level == place.level)
        and (rule.unit_path is None or place.path.startswith(rule.unit_path))
    )


def order_key(rule: Rule) -> tuple:
    specific = (len(rule.unit_path or ""), rule.category_code is not None, rule.level is not None)
    return (rule.priority, tuple(-int(x) for x in specific), rule.id)


def holder_label(h: Holder) -> str:
    return f"{h.unit_name} {DUTY_ZH.get(h.duty, h.duty)} {h.name}"


def _with_account(holders: list[Holder], duty: str) -> tuple[Holder | None, bool]:
    """The first holder of ``duty`` with a user account, and whether anyone holds it at all."""
    of_duty = [h for h in holders if h.duty == duty]
    return next((h for h in of_duty if h.user_id is not None), None), bool(of_duty)


def fallback(holders: list[Holder], staff: list[Staff], steps: list[str]) -> Decision:
    for duty in ["grid_worker", *FALLBACK_CHAIN]:
        h, anyone = _with_account(holders, duty)
        if h is not None:
            steps.append(bilingual("兜底：{holder_label}", holder_label=holder_label(h), duty=duty))
            return Decision(h.user_id, holder_label(h), HandlerKind.duty.value, None, steps)
        why = N_("{duty}无账号") if anyone else N_("{duty}空缺")
        steps.append(bilingual(why, duty=DUTY_ZH[duty], code=duty))
    if staff:
        s = staff[0]
        steps.append(bilingual("兜底：社区工作者 {label}", label=s.label))
        return Decision(s.user_id, s.label, HandlerKind.user.value, None, steps)
    steps.append(bilingual("无人可分派，待人工指派"))
    return Decision(None, None, None, None, steps)


def route(place: Place, rules: list[Rule], holders: list[Holder], staff: list[Staff]) -> Decision:
    """Pick the handler of a report; ``holders`` is the place's chain, ``staff`` those covering it."""
    steps: list[str] = []
    for rule in sorted((r for r in rules if matches(r, place)), key=order_key):
        kind = rule.handler_kind
        if kind == HandlerKind.duty.value and rule.duty:
            h, anyone = _with_account(holders, rule.duty)
            if h is not None:
                steps.append(
                    bilingual("规则 #{id}：{holder_label}", id=rule.id, holder_label=holder_label(h), duty=rule.duty)
                )
                return Decision(h.user_id, holder_label(h), kind, rule.id, steps)
            why = N_("规则 #{id} 跳过：{duty}无账号") if anyone else N_("规则 #{id} 跳过：{duty}空缺")
            steps.append(bilingual(why, id=rule.id, duty=DUTY_ZH.get(rule.duty, rule.duty), code=rule.duty))
        elif kind == HandlerKind.user.value:
            if rule.user_id is not None and rule.user_label:
                steps.append(bilingual("规则 #{id}：指定人员 {user_label}", id=rule.id, user_label=rule.user_label))
                return Decision(rule.user_id, rule.user_label, kind, rule.id, steps)
            steps.append(bilingual("规则 #{id} 跳过：指定人员不可用", id=rule.id))
        elif kind in (HandlerKind.partner.value, HandlerKind.team.value) and rule.org_name:
            if rule.user_id is not None and rule.user_label:
                steps.append(
                    bilingual(
                        "规则 #{id}：{org_name}（联系人 {user_label}）",
                        id=rule.id,
                        org_name=rule.org_name,
                        user_label=rule.user_label,
                        kind=kind,
                    )
                )
                return Decision(rule.user_id, f"{rule.org_name}（{rule.user_label}）", kind, rule.id, steps)
            # An organization without an account on the platform: someone of the grid coordinates.
            steps.append(
                bilingual(
                    "规则 #{id}：{org_name}，无平台账号，由网格协调", id=rule.id, org_name=rule.org_name, kind=kind
                )
            )
            coord = fallback(holders, staff, steps)
            label = f"{rule.org_name}（协调：{coord.label}）" if coord.label else rule.org_name
            return Decision(coord.user_id, label, kind, rule.id, steps)
        else:
            steps.append(bilingual("规则 #{id} 跳过：规则不完整", id=rule.id))
    if not steps:
        steps.append(bilingual("无匹配规则"))
    return fallback(holders, staff, steps)
