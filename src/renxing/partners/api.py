"""JSON routes of the partner register."""

from fastapi import APIRouter, Query

from renxing.partners import service
from renxing.partners.service import OrganizationIn, OrganizationPatch
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, PageNo, PageSize

router = APIRouter(prefix="/api/v1/partners", tags=["partners"])


@router.get("", summary="Partner units and social organizations in scope, one page")
def list_orgs(
    session: DB,
    actor: CurrentUser,
    q: str | None = Query(None, description="part of the name"),
    kind: str | None = Query(None, description="social_org, property_company, police, fire_brigade, clinic, ..."),
    active: bool | None = None,
    page: PageNo = 1,
    size: PageSize | None = None,
) -> dict:
    result = service.list_orgs(session, actor, q=q, kind=kind, active=active, page=page, size=size)
    return result.to_dict([service.present(o) for o in result.items])


@router.get("/{org_id}", summary="One organization")
def get_org(org_id: Id, session: DB, actor: CurrentUser) -> dict:
    return service.present(service.get_org(session, actor, org_id))


@router.post("", status_code=201, summary="Register an organization")
def create_org(data: OrganizationIn, session: DB, actor: CurrentUser) -> dict:
    return service.present(service.create_org(session, actor, data))


@router.patch("/{org_id}", summary="Change an organization")
def update_org(org_id: Id, patch: OrganizationPatch, session: DB, actor: CurrentUser) -> dict:
    return service.present(service.update_org(session, actor, org_id, patch))
