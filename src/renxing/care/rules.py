"""Who needs care, how often, and what a carer must be able to do. Pure: no database, no web."""

from datetime import date, datetime, timedelta

from renxing.care.assignment import required_skills
from renxing.i18n import Label, _l
from renxing.people.vulnerability import age_on

# Kinds of vulnerability that call for a care plan, in the order the tables show them.
KIND_LABELS: dict[str, Label] = {
    "elderly_alone": _l("独居老人"),
    "aged80": _l("80岁以上"),
    "bedridden": _l("卧床"),
    "disabled": _l("残疾"),
    "special_needs": _l("特殊需求"),
}
# Kinds that reveal health and so are masked like the health field.
HEALTH_KINDS = frozenset({"bedridden", "disabled", "special_needs"})

FOUND_LABELS = {"ok": _l("一切正常"), "problem": _l("发现问题")}
PROBLEM_CATEGORIES: dict[str, Label] = {
    "health": _l("身体不适"),
    "living": _l("生活困难"),
    "safety": _l("居家安全"),
    "mental": _l("情绪心理"),
    "absent": _l("多次联系不上"),
    "other": _l("其他"),
}

EMERGENCY_DAYS = 1
OXYGEN_DIALYSIS_DAYS = 3
WEEKLY = 7
FORTNIGHTLY = 14

NOTE_MAX = 2000  # characters of a plan's note, a visit's record or an assignment's reason


def care_kinds(
    *,
    birth_date: date | None,
    living_alone: bool,
    bedridden: bool,
    disability_kind: str | None,
    special_needs: str | None,
    today: date,
) -> list[str]:
    """The kinds of vulnerability of a resident (empty: no care plan needed)."""
    age = age_on(birth_date, today) if birth_date else None
    out: list[str] = []
    if living_alone and age is not None and age >= 60:
        out.append("elderly_alone")
    if age is not None and age >= 80:
        out.append("aged80")
    if bedridden:
        out.append("bedridden")
    if disability_kind:
        out.append("disabled")
    if special_needs:
        out.append("special_needs")
    return out


def default_frequency(kinds: list[str], special_needs: str | None, *, emergency: bool = False) -> int:
    """Days between visits: daily in an emergency; every 3 days for oxygen or dialysis; weekly for
    someone bedridden or an elderly person living alone; fortnightly for the others."""
    if emergency:
        return EMERGENCY_DAYS
    needs = {s.strip() for s in (special_needs or "").replace("，", ",").split(",")}
    if needs & {"oxygen", "dialysis"}:
        return OXYGEN_DIALYSIS_DAYS
    if "bedridden" in kinds or "elderly_alone" in kinds:
        return WEEKLY
    return FORTNIGHTLY


def plan_needs(special_needs: str | None, *, bedridden: bool, disability_kind: str | None) -> list[str]:
    """Skills a carer must hold for this resident, sorted."""
    return sorted(required_skills(special_needs, bedridden=bedridden, disability_kind=disability_kind))


def effective_frequency(frequency_days: int, *, plan_emergency: bool, emergency_mode: bool) -> int:
    return EMERGENCY_DAYS if plan_emergency or emergency_mode else frequency_days


def due_at(last_visit: datetime | None, plan_start: datetime, frequency_days: int) -> datetime:
    """When the next visit is due: a frequency after the last visit, or after the plan began."""
    return (last_visit or plan_start) + timedelta(days=frequency_days)
