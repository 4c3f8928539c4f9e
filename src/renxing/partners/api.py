"""JSON routes of the partner register."""

from typing import Annotated

from fastapi import APIRouter, Query

from renxing.partners import service
from renxing.partners.schemas import OrganizationIn, OrganizationOut, OrganizationPatch
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams
from renxing.web.schemas import PageOut

router = APIRouter(prefix="/api/v1/partners", tags=["partners"])


@router.get(
    "",
    response_model=PageOut[OrganizationOut],
    summary="Partner units and social organizations in scope, one page (q: part of the name; sort: kind, name)",
)
def list_orgs(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    kind: Annotated[
        str | None, Query(description="social_org, property_company, police, fire_brigade, clinic, ...")
    ] = None,
    active: bool | None = None,
) -> dict:
    query.filters = {"kind": kind, "active": active}
    result = service.list_orgs(session, actor, query)
    return result.to_dict([service.present(o) for o in result.items])


@router.get("/{org_id}", response_model=OrganizationOut, summary="One organization")
def get_org(org_id: Id, session: DB, actor: CurrentUser) -> dict:
    return service.present(service.get_org(session, actor, org_id))


@router.post("", status_code=201, response_model=OrganizationOut, summary="Register an organization")
def create_org(data: OrganizationIn, session: DB, actor: CurrentUser) -> dict:
    return service.present(service.create_org(session, actor, data))


@router.patch("/{org_id}", response_model=OrganizationOut, summary="Change an organization")
def update_org(org_id: Id, patch: OrganizationPatch, session: DB, actor: CurrentUser) -> dict:
    return service.present(service.update_org(session, actor, org_id, patch))
