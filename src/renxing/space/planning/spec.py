"""A scenario as plain values (``Spec``): parsed from loose input (a JSON body, a query string, a
form) or from a saved scenario, and checked against the layers of its community."""

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.errors import Collector
from renxing.i18n import _
from renxing.space.models import EvacScenario, HazardZone, Road, Shelter, ShelterStatus


@dataclass(frozen=True)
class Spec:
    """What a plan is computed for; a saved scenario or one built on the page."""

    community_id: int
    hazard_zone_ids: tuple[int, ...] = ()
    cut_road_ids: tuple[int, ...] = ()
    open_candidate_ids: tuple[int, ...] = ()
    closed_shelter_ids: tuple[int, ...] = ()
    evacuate_all: bool = False
    scenario_id: int | None = None
    name: str = ""

    def with_open(self, candidate_ids: list[int]) -> "Spec":
        merged = tuple(sorted(set(self.open_candidate_ids) | set(candidate_ids)))
        return Spec(**{**asdict(self), "open_candidate_ids": merged, "scenario_id": None})

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("hazard_zone_ids", "cut_road_ids", "open_candidate_ids", "closed_shelter_ids"):
            d[k] = list(d[k])
        return d


def parse_ids(raw: Any, name: str, errors: Collector) -> tuple[int, ...]:
    """Row ids from a list or a comma-separated text, sorted and without repeats."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [p for p in raw.replace("，", ",").split(",") if p.strip()]
    if not isinstance(raw, list | tuple | set):
        errors.add(name, _("应为编号列表"), value=raw)
        return ()
    out = []
    for v in raw:
        n = parse_id(v)
        if n is None:
            errors.add(name, _("应为整数编号"), value=v)
            continue
        out.append(n)
    return tuple(sorted(set(out)))


def parse_id(v: Any) -> int | None:
    """A row id, or None; within a 32-bit integer so that no database chokes on it."""
    if isinstance(v, bool):
        return None
    try:
        n = int(str(v).strip())
    except ValueError:
        return None
    return n if 0 < n < 2**31 else None


_TRUE, _FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no", "")


def _flag(raw: Any, name: str, errors: Collector) -> bool:
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    text = str(raw).strip().lower()
    if text not in _TRUE + _FALSE:
        errors.add(name, _("应为是或否"), value=raw)
    return text in _TRUE


def spec_from(values: dict[str, Any], errors: Collector) -> Spec | None:
    """A Spec from loose input (JSON body or query string); bad shapes are added to ``errors``."""
    community = values.get("community_id", values.get("community"))
    community_id = parse_id(community)
    if community_id is None:
        errors.add("community_id", _("请指定社区"), value=community)
        return None
    spec = Spec(
        community_id=community_id,
        hazard_zone_ids=parse_ids(values.get("hazard_zone_ids"), "hazard_zone_ids", errors),
        cut_road_ids=parse_ids(values.get("cut_road_ids"), "cut_road_ids", errors),
        open_candidate_ids=parse_ids(values.get("open_candidate_ids"), "open_candidate_ids", errors),
        closed_shelter_ids=parse_ids(values.get("closed_shelter_ids"), "closed_shelter_ids", errors),
        evacuate_all=_flag(values.get("evacuate_all"), "evacuate_all", errors),
    )
    return spec


def spec_or_raise(values: dict[str, Any]) -> Spec:
    errors = Collector()
    spec = spec_from(values, errors)
    errors.raise_if_any(_("情景有误"))
    assert spec is not None
    return spec


def spec_of(sc: EvacScenario) -> Spec:
    """The scenario a saved one describes."""
    return Spec(
        community_id=sc.unit_id,
        hazard_zone_ids=tuple(sc.hazard_zone_ids or ()),
        cut_road_ids=tuple(sc.cut_road_ids or ()),
        open_candidate_ids=tuple(sc.open_candidate_ids or ()),
        closed_shelter_ids=tuple(sc.closed_shelter_ids or ()),
        evacuate_all=sc.evacuate_all,
        scenario_id=sc.id,
        name=sc.name,
    )


def validate(session: Session, spec: Spec, errors: Collector) -> None:
    """Every id of the scenario belongs to its community and is of the right kind."""

    def check(model: type, ids: tuple[int, ...], name: str, ok: Any = None, why: str = "") -> None:
        if not ids:
            return
        rows = {r.id: r for r in session.scalars(select(model).where(model.id.in_(ids)))}
        for i in ids:
            row = rows.get(i)
            if row is None or row.unit_id != spec.community_id:
                errors.add(name, _("不属于该社区"), value=i)
            elif ok is not None and not ok(row):
                errors.add(name, why, value=i)

    check(HazardZone, spec.hazard_zone_ids, "hazard_zone_ids")
    check(Road, spec.cut_road_ids, "cut_road_ids")
    check(
        Shelter,
        spec.open_candidate_ids,
        "open_candidate_ids",
        lambda s: s.status == ShelterStatus.candidate.value,
        _("不是候选场所"),
    )
    check(Shelter, spec.closed_shelter_ids, "closed_shelter_ids")
    both = set(spec.open_candidate_ids) & set(spec.closed_shelter_ids)
    for i in sorted(both):
        errors.add("closed_shelter_ids", _("同一场所不能既开放又关闭"), value=i)
