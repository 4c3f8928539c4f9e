"""One way to list anything: declared filters, search, sort and scope, then one page with its total.

A domain declares a `ListSpec` next to its query, and every list endpoint and page of it goes
through `list_page`:

    TEAMS = ListSpec(
        sorts={"name": VolunteerTeam.name, "kind": VolunteerTeam.kind, "created": VolunteerTeam.id},
        default_sort="name",
        tiebreaker=VolunteerTeam.id,
        search=(VolunteerTeam.name, VolunteerTeam.leader_name),
        filters={"kind": Filter(VolunteerTeam.kind), "since": Filter(VolunteerTeam.created_at, ">=")},
        scope=VolunteerTeam.path,
    )
    page = list_page(session, select(VolunteerTeam), TEAMS, query, actor)

Any declared sort key may be prefixed with "-" for descending order; the tiebreaker keeps pages
stable when many rows share a value. A bad sort key, filter or page is one 422 naming the field.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from renxing.auth.principal import Principal
from renxing.config import get_settings
from renxing.errors import FieldError, Invalid
from renxing.grid.scope import scope_clause
from renxing.i18n import _

T = TypeVar("T")

MAX_SEARCH = 100  # characters of a search text


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    def to_dict(self, items: list[Any] | None = None) -> dict[str, Any]:
        return {
            "items": self.items if items is None else items,
            "total": self.total,
            "page": self.page,
            "size": self.size,
            "pages": self.pages,
        }


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda col, v: col == v,
    ">=": lambda col, v: col >= v,
    "<=": lambda col, v: col <= v,
    "<": lambda col, v: col < v,
    ">": lambda col, v: col > v,
    "in": lambda col, v: col.in_(list(v)),
}


@dataclass(frozen=True)
class Filter:
    """A filterable field: the column, how a value compares, and an optional parser for text
    values (from a page's query string) that raises ValueError on a bad one."""

    column: Any
    op: str = "="
    parse: Callable[[Any], Any] | None = None

    def clause(self, value: Any):
        return _OPS[self.op](self.column, value)


@dataclass(frozen=True)
class ListSpec:
    sorts: Mapping[str, Any]
    default_sort: str
    tiebreaker: Any
    search: Sequence[Any] = ()
    filters: Mapping[str, Filter] = field(default_factory=dict)
    # The path column of the listed rows: the actor's grid scope is applied to it.
    scope: Any = None


@dataclass
class ListQuery:
    """What a caller asked for: page, size, sort, search text and filter values by name."""

    page: int = 1
    size: int | None = None
    sort: str | None = None
    q: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)


def check_page(page: int, size: int | None) -> tuple[int, int]:
    settings = get_settings()
    size = settings.page_size if size is None else size
    if page < 1:
        raise Invalid(_("页码无效"), [FieldError("page", "must be ≥ 1", value=page)])
    if not 1 <= size <= settings.max_page_size:
        raise Invalid(_("每页条数无效"), [FieldError("size", f"must be 1..{settings.max_page_size}")])
    return page, size


def sort_clauses(spec: ListSpec, sort: str | None) -> list[Any]:
    """The ORDER BY of a sort key (declared, or declared with a leading "-"), tiebreaker last."""
    key = sort or spec.default_sort
    descending = key.startswith("-") and key not in spec.sorts
    name = key[1:] if descending else key
    if name not in spec.sorts or (descending and name.startswith("-")):  # "--x" is not "x"
        choices = ", ".join(spec.sorts)
        raise Invalid(_("排序字段无效"), [FieldError("sort", f"one of {choices}", value=sort)])
    column = spec.sorts[name]
    first = list(column) if isinstance(column, list | tuple) else [column]
    if descending:
        first = [c.desc() for c in first]
    tiebreak = spec.tiebreaker.desc() if descending else spec.tiebreaker
    return [*first, tiebreak]


def search_clause(spec: ListSpec, q: str | None):
    """Rows where any declared column contains the text, case-insensitively; None for no search."""
    text = (q or "").strip()
    if not text or not spec.search:
        return None
    if len(text) > MAX_SEARCH:
        raise Invalid(_("搜索词过长"), [FieldError("q", f"at most {MAX_SEARCH} characters")])
    return or_(*[col.icontains(text, autoescape=True) for col in spec.search])


def filter_clauses(spec: ListSpec, values: Mapping[str, Any]) -> list[Any]:
    clauses = []
    errors: list[FieldError] = []
    for name, value in values.items():
        if value is None or value == "":
            continue
        flt = spec.filters.get(name)
        if flt is None:
            errors.append(FieldError(name, f"not a filter; one of {', '.join(spec.filters)}"))
            continue
        if flt.parse is not None:
            try:
                value = flt.parse(value)
            except (TypeError, ValueError):
                errors.append(FieldError(name, _("无效的筛选值"), value=value))
                continue
        clauses.append(flt.clause(value))
    if errors:
        raise Invalid(_("筛选条件无效"), errors)
    return clauses


def apply(stmt: Select[Any], spec: ListSpec, query: ListQuery, actor: Principal | None = None) -> Select[Any]:
    """The statement narrowed by scope, filters and search, in the asked order (not yet paged)."""
    if actor is not None and spec.scope is not None:
        clause = scope_clause(spec.scope, actor)
        if clause is not None:
            stmt = stmt.where(clause)
    for clause in filter_clauses(spec, query.filters):
        stmt = stmt.where(clause)
    found = search_clause(spec, query.q)
    if found is not None:
        stmt = stmt.where(found)
    return stmt.order_by(None).order_by(*sort_clauses(spec, query.sort))


def paginate(session: Session, stmt: Select[Any], page: int, size: int | None, *, scalars: bool = True) -> Page[Any]:
    """One page of an already ordered statement, with the total."""
    page, size = check_page(page, size)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    paged = stmt.limit(size).offset((page - 1) * size)
    items = list(session.scalars(paged)) if scalars else list(session.execute(paged))
    return Page(items=items, total=total, page=page, size=size)


def list_page(
    session: Session,
    stmt: Select[Any],
    spec: ListSpec,
    query: ListQuery,
    actor: Principal | None = None,
    *,
    scalars: bool = True,
) -> Page[Any]:
    """The one list routine: scope, filters, search, stable sort, then a page and the total."""
    check_page(query.page, query.size)  # a bad page is refused before any query runs
    return paginate(session, apply(stmt, spec, query, actor), query.page, query.size, scalars=scalars)


def sort_key_names(spec: ListSpec) -> list[str]:
    """Every accepted sort key, for documentation and page controls."""
    return [*spec.sorts, *(f"-{k}" for k in spec.sorts if not k.startswith("-") and f"-{k}" not in spec.sorts)]
