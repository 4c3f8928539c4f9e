"""The place an Open311 ``address_string`` names: a building whose address it contains, else
the deepest grid unit named, consistent with the community, compound and area also named."""

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.errors import FieldError, Invalid
from renxing.geo.outlines import LEVEL_DEPTH
from renxing.grid.models import Building, GridUnit, Level
from renxing.grid.scope import subtree_clause
from renxing.i18n import _

_PUNCT = re.compile(r"[\s,，、;；:：.。·\-—_/()（）]+")


def _norm(text: str) -> str:
    """Full-width to half-width, lower case, no spaces or punctuation: 'ＸＸ路 12 号' → 'xx路12号'."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).lower()


def _occurs(needle: str, hay: str) -> bool:
    """``needle`` in ``hay``, not glued to other digits ('1栋' is not in '11栋')."""
    if not needle:
        return False
    start = hay.find(needle)
    while start >= 0:
        end = start + len(needle)
        before_ok = start == 0 or not (hay[start - 1].isdigit() and needle[0].isdigit())
        after_ok = end == len(hay) or not (hay[end].isdigit() and needle[-1].isdigit())
        if before_ok and after_ok:
            return True
        start = hay.find(needle, start + 1)
    return False


def resolve_address(session: Session, address: str, within: str | None) -> GridUnit:
    """The unit an ``address_string`` names, inside the jurisdiction: a building whose address
    it contains (the longest wins), else the deepest unit named, consistent with the community,
    compound and area also named ('阳光社区一苑1栋'). Nothing or several → Invalid."""
    query = _norm(address)
    units_stmt = select(GridUnit).where(GridUnit.level != Level.street.value)
    addr_stmt = select(Building.id, Building.address).where(Building.address.is_not(None))
    if within is not None:
        units_stmt = units_stmt.where(subtree_clause(GridUnit.path, within))
        addr_stmt = addr_stmt.join(GridUnit, GridUnit.id == Building.id).where(subtree_clause(GridUnit.path, within))
    units = {u.id: u for u in session.scalars(units_stmt)}

    def ambiguous(found: list[GridUnit]) -> Invalid:
        names = "、".join(sorted({u.name for u in found}))[:80]
        msg = _("地址对应多处（{names}），请写明社区或小区").format(names=names)
        return Invalid(msg, [FieldError("address_string", msg, None, address)])

    by_address: dict[str, list[int]] = {}
    for bid, text in session.execute(addr_stmt):
        norm = _norm(text or "")
        if bid in units and _occurs(norm, query):
            by_address.setdefault(norm, []).append(bid)
    if by_address:
        best = by_address[max(by_address, key=len)]
        if len(best) == 1:
            return units[best[0]]
        raise ambiguous([units[i] for i in best])

    named = [u for u in units.values() if _occurs(_norm(u.name), query)]
    # A community, compound or area the address names narrows what lies below it.
    for level in (Level.community, Level.compound, Level.area):
        depth = LEVEL_DEPTH[level.value]
        parents = [u.path for u in named if u.level == level.value]
        if parents:
            named = [
                u for u in named if LEVEL_DEPTH.get(u.level, 0) <= depth or any(u.path.startswith(p) for p in parents)
            ]
    if not named:
        msg = _("未找到该地址对应的楼栋或网格")
        raise Invalid(msg, [FieldError("address_string", msg, None, address)])
    deepest = max(LEVEL_DEPTH.get(u.level, 0) for u in named)
    found = [u for u in named if LEVEL_DEPTH.get(u.level, 0) == deepest]
    if len(found) > 1:
        raise ambiguous(found)
    return found[0]
