"""What if more conversion candidates were switched on: two plans of one community compared,
building by building. A building gains when fewer of its people are left without a place or its
longest walk is shorter."""

from typing import Any

from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.errors import Collector, FieldError
from renxing.i18n import _
from renxing.space.planning.access import community_of
from renxing.space.planning.coverage import COVERAGE_RADII, with_coverage
from renxing.space.planning.plan import plan_for_community
from renxing.space.planning.spec import Spec, parse_ids, spec_from, validate


def _gains(base: dict[str, Any], alt: dict[str, Any]) -> list[dict[str, Any]]:
    before = {b["id"]: b for b in base["buildings"]}
    gains = []
    for b in alt["buildings"]:
        a = before.get(b["id"])
        if a is None:
            continue
        newly = a["unplaced"] - b["unplaced"]
        saved = None
        if a["time_s"] is not None and b["time_s"] is not None:
            saved = round(a["time_s"] - b["time_s"], 1)
        if newly > 0 or (saved is not None and saved > 0.5):
            gains.append(
                {
                    "building_id": b["id"],
                    "name": b["name"],
                    "newly_placed": max(newly, 0),
                    "time_saved_s": saved if saved and saved > 0 else 0.0,
                    "before_shelter": a["shelter_name"],
                    "after_shelter": b["shelter_name"],
                    "before_time_s": a["time_s"],
                    "after_time_s": b["time_s"],
                    "persons": b["persons"]["total"],
                }
            )
    gains.sort(key=lambda g: (-g["newly_placed"], -g["time_saved_s"]))
    return gains


def compare_plans(base: dict[str, Any], alt: dict[str, Any]) -> dict[str, Any]:
    """Two plans of one community side by side: totals, their change, and the buildings that gain."""
    gains = _gains(base, alt)

    def delta(key: str) -> float | None:
        x, y = base["totals"].get(key), alt["totals"].get(key)
        return None if x is None or y is None else round(y - x, 1)

    out = {
        "base": base,
        "alt": alt,
        "opened": sorted(set(alt["spec"]["open_candidate_ids"]) - set(base["spec"]["open_candidate_ids"])),
        "change": {
            k: delta(k) for k in ("unplaced", "placed", "clearance_s", "person_time_s", "mean_time_s", "capacity")
        },
        "gains": gains,
        "gaining_persons": sum(g["newly_placed"] for g in gains),
    }
    if base.get("coverage") and alt.get("coverage"):
        out["change"]["coverage"] = {
            key: round((alt["coverage"][key]["share"] or 0.0) - (base["coverage"][key]["share"] or 0.0), 4)
            for key in (str(int(r)) for r in COVERAGE_RADII)
        }
    return out


def what_if(session: Session, actor: Principal, spec: Spec, open_candidates: list[int]) -> dict[str, Any]:
    """The scenario as it is against the scenario with more conversion candidates switched on."""
    errors = Collector()
    if not open_candidates:
        errors.add("open_candidates", _("请选择要启用的候选场所"))
    errors.raise_if_any(_("情景有误"))
    alt_spec = spec.with_open(open_candidates)
    community = community_of(session, actor, spec.community_id)
    validate(session, spec, errors)
    check = Collector()
    validate(session, alt_spec, check)
    errors.errors += [FieldError("open_candidates", e.message, e.row, e.value) for e in check.errors]
    errors.raise_if_any(_("情景有误"))
    base = with_coverage(session, community, spec, plan_for_community(session, community, spec))
    alt = with_coverage(session, community, alt_spec, plan_for_community(session, community, alt_spec))
    return compare_plans(base, alt)


def what_if_from(session: Session, actor: Principal, values: dict[str, Any]) -> dict[str, Any]:
    errors = Collector()
    spec = spec_from(values, errors)
    extra = parse_ids(values.get("open_candidates"), "open_candidates", errors)
    errors.raise_if_any(_("情景有误"))
    assert spec is not None
    return what_if(session, actor, spec, list(extra))
