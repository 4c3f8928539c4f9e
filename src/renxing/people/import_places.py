"""The buildings and areas an import names, by code or by name, found inside the importer's scope;
a reference that names none, or several, gets the reason in the words of the report."""

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from renxing.auth.principal import Principal
from renxing.grid.models import GridUnit, Level
from renxing.grid.scope import in_scope
from renxing.i18n import _
from renxing.people.import_sheet import CHUNK


@dataclass(frozen=True)
class Place:
    id: int
    code: str
    name: str
    path: str
    parent: str | None  # name of the unit above, to tell namesakes apart

    def label(self) -> str:
        return f"{self.name}（{self.parent or ''}，编码 {self.code}）"


_NUMBERED = ("栋", "号楼", "幢", "号")


def _name_variants(ref: str) -> list[str]:
    # "3" is how many write 3栋: a bare number also tries the usual suffixes.
    return [ref, *(ref + s for s in _NUMBERED)] if ref.isdigit() else [ref]


def resolve_places(
    session: Session, actor: Principal, level: Level, refs: set[str], what: str
) -> dict[str, Place | str]:
    """Each reference → the unit it names inside the actor's scope, or the reason it names none."""
    if not refs:
        return {}
    parent = aliased(GridUnit)
    names = {v for r in refs for v in _name_variants(r)}
    found: list[Place] = []
    ref_list, name_list = sorted(refs), sorted(names)
    for i in range(0, max(len(ref_list), len(name_list)), CHUNK):
        codes, some_names = ref_list[i : i + CHUNK], name_list[i : i + CHUNK]
        stmt = (
            select(GridUnit.id, GridUnit.code, GridUnit.name, GridUnit.path, parent.name)
            .outerjoin(parent, parent.id == GridUnit.parent_id)
            .where(GridUnit.level == level.value, or_(GridUnit.code.in_(codes), GridUnit.name.in_(some_names)))
        )
        found.extend(Place(*row) for row in session.execute(stmt))
    found = list({p.id: p for p in found}.values())
    inside = [p for p in found if in_scope(actor, p.path)]
    out: dict[str, Place | str] = {}
    for ref in refs:
        by_code = [p for p in inside if p.code == ref]
        if by_code:
            out[ref] = by_code[0]
            continue
        by_name: list[Place] = []
        for variant in _name_variants(ref):
            by_name = [p for p in inside if p.name == variant]
            if by_name:
                break
        if len(by_name) == 1:
            out[ref] = by_name[0]
        elif by_name:
            cands = "；".join(p.label() for p in sorted(by_name, key=lambda p: p.code))
            out[ref] = _("有 {count} 个{what}叫“{ref}”：{cands}，请改填{what}编码").format(
                count=len(by_name), what=what, ref=ref, cands=cands
            )
        elif any(p.code == ref or p.name in _name_variants(ref) for p in found):
            out[ref] = _("{what}“{ref}”不在您的管辖范围内").format(what=what, ref=ref)
        else:
            out[ref] = _("找不到{what}“{ref}”，请填写{what}编码或名称").format(what=what, ref=ref)
    return out
