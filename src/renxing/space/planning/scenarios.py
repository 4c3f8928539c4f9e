"""Saved evacuation scenarios of a community: list, read, save, change, delete, and the plan of
one (kept with it until its inputs change). A scenario outside one's scope is a 404."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Collector, NotFound
from renxing.grid.models import GridUnit
from renxing.grid.scope import in_scope, sees
from renxing.i18n import _
from renxing.space.models import EvacScenario
from renxing.space.planning.access import community_of, planning_communities, require_planner
from renxing.space.planning.plan import plan_for_community
from renxing.space.planning.spec import spec_from, spec_of, validate

_SNAPSHOT = [
    "unit_id",
    "name",
    "note",
    "hazard_zone_ids",
    "cut_road_ids",
    "open_candidate_ids",
    "closed_shelter_ids",
    "evacuate_all",
]


def load_scenario(session: Session, actor: Principal, scenario_id: int, *, write: bool = False) -> EvacScenario:
    """A scenario of a community the actor plans for (``write``: covers), else 404."""
    require_planner(actor, Perm.space_write if write else Perm.space_read)
    sc = session.get(EvacScenario, scenario_id)
    unit = session.get(GridUnit, sc.unit_id) if sc is not None else None
    if sc is None or unit is None or not (in_scope(actor, unit) if write else sees(actor, unit)):
        raise NotFound(_("情景 {scenario_id} 不存在").format(scenario_id=scenario_id))
    return sc


def present_scenario(sc: EvacScenario) -> dict[str, Any]:
    return {
        "id": sc.id,
        "community_id": sc.unit_id,
        "name": sc.name,
        "note": sc.note,
        "hazard_zone_ids": list(sc.hazard_zone_ids or []),
        "cut_road_ids": list(sc.cut_road_ids or []),
        "open_candidate_ids": list(sc.open_candidate_ids or []),
        "closed_shelter_ids": list(sc.closed_shelter_ids or []),
        "evacuate_all": sc.evacuate_all,
        "created_at": sc.created_at.isoformat() if sc.created_at else None,
        "updated_at": sc.updated_at.isoformat() if sc.updated_at else None,
        "plan_computed_at": sc.plan_computed_at.isoformat() if sc.plan_computed_at else None,
        "plan_fingerprint": sc.plan_fingerprint,
    }


def _name(values: dict[str, Any], errors: Collector, required: bool) -> str | None:
    raw = values.get("name")
    if raw is None and not required:
        return None
    name = str(raw or "").strip()
    if not name:
        errors.add("name", _("请填写情景名称"))
    elif len(name) > 120:
        errors.add("name", _("名称太长"), value=name[:20])
    return name


def list_scenarios(session: Session, actor: Principal, community_id: int | None = None) -> list[EvacScenario]:
    require_planner(actor)
    ids = [c.id for c in planning_communities(session, actor)]
    if community_id is not None:
        community_of(session, actor, community_id)
        ids = [community_id]
    if not ids:
        return []
    stmt = select(EvacScenario).where(EvacScenario.unit_id.in_(ids)).order_by(EvacScenario.unit_id, EvacScenario.name)
    return list(session.scalars(stmt))


def get_scenario(session: Session, actor: Principal, scenario_id: int) -> EvacScenario:
    return load_scenario(session, actor, scenario_id)


def create_scenario(session: Session, actor: Principal, values: dict[str, Any]) -> EvacScenario:
    require_planner(actor, Perm.space_write)
    errors = Collector()
    name = _name(values, errors, True)
    spec = spec_from(values, errors)
    if spec is not None:
        community_of(session, actor, spec.community_id, write=True)
        validate(session, spec, errors)
    errors.raise_if_any(_("情景有误"))
    assert spec is not None
    sc = EvacScenario(
        unit_id=spec.community_id,
        name=name,
        note=(str(values.get("note")).strip() or None) if values.get("note") else None,
        hazard_zone_ids=list(spec.hazard_zone_ids),
        cut_road_ids=list(spec.cut_road_ids),
        open_candidate_ids=list(spec.open_candidate_ids),
        closed_shelter_ids=list(spec.closed_shelter_ids),
        evacuate_all=spec.evacuate_all,
        created_by=actor.user_id,
    )
    session.add(sc)
    session.flush()
    audit.record(
        session, actor, "create", "space.evac_scenario", sc.id, summary=sc.name, after=audit.snapshot(sc, _SNAPSHOT)
    )
    return sc


def update_scenario(session: Session, actor: Principal, scenario_id: int, patch: dict[str, Any]) -> EvacScenario:
    sc = load_scenario(session, actor, scenario_id, write=True)
    before = audit.snapshot(sc, _SNAPSHOT)
    errors = Collector()
    unknown = set(patch) - {*_SNAPSHOT, "community_id"} - {"unit_id"}
    for k in sorted(unknown):
        errors.add(k, _("未知字段"))
    if "community_id" in patch or "unit_id" in patch:
        errors.add("community_id", _("情景不能换社区"))
    name = _name(patch, errors, False)
    merged = {**present_scenario(sc), **{k: v for k, v in patch.items() if k in _SNAPSHOT}}
    spec = spec_from({**merged, "community_id": sc.unit_id}, errors)
    if spec is not None:
        validate(session, spec, errors)
    errors.raise_if_any(_("情景有误"))
    assert spec is not None
    if name is not None:
        sc.name = name
    if "note" in patch:
        sc.note = (str(patch["note"]).strip() or None) if patch["note"] else None
    sc.hazard_zone_ids = list(spec.hazard_zone_ids)
    sc.cut_road_ids = list(spec.cut_road_ids)
    sc.open_candidate_ids = list(spec.open_candidate_ids)
    sc.closed_shelter_ids = list(spec.closed_shelter_ids)
    sc.evacuate_all = spec.evacuate_all
    session.flush()
    old, new = audit.changed(before, audit.snapshot(sc, _SNAPSHOT))
    if new:
        audit.record(session, actor, "update", "space.evac_scenario", sc.id, summary=sc.name, before=old, after=new)
    return sc


def delete_scenario(session: Session, actor: Principal, scenario_id: int) -> None:
    sc = load_scenario(session, actor, scenario_id, write=True)
    before = audit.snapshot(sc, _SNAPSHOT)
    session.delete(sc)
    session.flush()
    audit.record(session, actor, "delete", "space.evac_scenario", scenario_id, summary=before["name"], before=before)


def scenario_plan(session: Session, actor: Principal, scenario_id: int) -> dict[str, Any]:
    """A saved scenario's plan: the cached one while its inputs are unchanged, else computed anew."""
    sc = load_scenario(session, actor, scenario_id)
    community = community_of(session, actor, sc.unit_id)
    spec = spec_of(sc)
    errors = Collector()
    validate(session, spec, errors)  # a zone or road deleted since it was saved
    errors.raise_if_any(_("情景引用的要素已不存在"))
    return plan_for_community(session, community, spec, sc)
