"""One way to page any list: a select statement in, one page and the total out."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from renxing.config import get_settings
from renxing.errors import FieldError, Invalid

T = TypeVar("T")


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


def check_page(page: int, size: int | None) -> tuple[int, int]:
    settings = get_settings()
    size = settings.page_size if size is None else size
    if page < 1:
        raise Invalid("页码无效 / bad page", [FieldError("page", "must be ≥ 1")])
    if not 1 <= size <= settings.max_page_size:
        raise Invalid("每页条数无效 / bad page size", [FieldError("size", f"must be 1..{settings.max_page_size}")])
    return page, size


def paginate(session: Session, stmt: Select[Any], page: int, size: int | None, *, scalars: bool = True) -> Page[Any]:
    page, size = check_page(page, size)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    paged = stmt.limit(size).offset((page - 1) * size)
    items = list(session.scalars(paged)) if scalars else list(session.execute(paged))
    return Page(items=items, total=total, page=page, size=size)
