"""HTML pages of the grid: home, the tree from street to household, buildings, the chain.
What each page shows is built in ``grid/views.py``."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from renxing.grid import service as grid
from renxing.grid import views
from renxing.grid.models import Level
from renxing.web import pagekit  # noqa: F401 - registers the layout's filters
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, PageNo, PageSize
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, session: DB, actor: CurrentUser):
    return render(request, "grid_home.html", views.home_context(session, actor))


@router.get("/grid")
def tree(request: Request, session: DB, actor: CurrentUser):
    return render(request, "grid_tree.html", views.tree_context(session, actor))


@router.get("/grid/{unit_id}")
def unit_page(
    request: Request, unit_id: Id, session: DB, actor: CurrentUser, page: PageNo = 1, size: PageSize | None = None
):
    unit = grid.get_unit(session, actor, unit_id)
    if unit.level == Level.building:
        return building_page(request, unit_id, session, actor, page, size)
    return render(request, "grid_unit.html", views.unit_context(session, actor, unit))


@router.get("/buildings/{unit_id}")
def building_page(
    request: Request, unit_id: Id, session: DB, actor: CurrentUser, page: PageNo = 1, size: PageSize | None = None
):
    unit = grid.get_unit(session, actor, unit_id)
    if unit.level != Level.building:
        return RedirectResponse(f"/grid/{unit.id}", status_code=303)
    return render(request, "grid_building.html", views.building_context(session, actor, unit, page=page, size=size))


@router.get("/grid/{unit_id}/chain")
def unit_chain(request: Request, unit_id: Id, session: DB, actor: CurrentUser):
    return render(request, "grid_chain.html", views.chain_context(session, actor, unit_id))


@router.get("/households/{household_id}")
def household_page(request: Request, household_id: Id, session: DB, actor: CurrentUser, removed: Id | None = None):
    return render(request, "grid_household.html", views.household_context(session, actor, household_id, removed))
