"""JSON routes of the resident register."""

from fastapi import APIRouter, Query

from renxing.grid.service import get_unit
from renxing.people import service
from renxing.people.schemas import ResidentIn, ResidentPatch
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, PageNo, PageSize

router = APIRouter(prefix="/api/v1/residents", tags=["residents"])


@router.get("", summary="Residents in the user's scope, masked, one page")
def list_residents(
    session: DB,
    actor: CurrentUser,
    unit_id: Id | None = None,
    household_id: Id | None = None,
    q: str | None = Query(None, description="name; phone or full ID number for roles that see them"),
    tag: str | None = Query(None, description="vulnerability tag, e.g. aged80, living_alone"),
    sort: str = Query("grid", description="grid (building order), id, -id, name, birth_date, -birth_date"),
    page: PageNo = 1,
    size: PageSize | None = None,
) -> dict:
    unit_path = None
    if unit_id is not None:
        unit_path = get_unit(session, actor, unit_id).path
    result = service.list_residents(
        session, actor, unit_path=unit_path, household_id=household_id, q=q, tag=tag, sort=sort, page=page, size=size
    )
    return result.to_dict([service.present(r, actor, frozenset()) for r in result.items])


@router.get("/{resident_id}", summary="One resident; fields the role needs in the clear (audited)")
def get_resident(resident_id: Id, session: DB, actor: CurrentUser) -> dict:
    return service.get_resident(session, actor, resident_id)


@router.post("", status_code=201, summary="Register a resident")
def create_resident(data: ResidentIn, session: DB, actor: CurrentUser) -> dict:
    r = service.create_resident(session, actor, data)
    return service.present(r, actor)


@router.patch("/{resident_id}", summary="Change a resident's data")
def update_resident(resident_id: Id, patch: ResidentPatch, session: DB, actor: CurrentUser) -> dict:
    r = service.update_resident(session, actor, resident_id, patch)
    return service.present(r, actor)


@router.delete("/{resident_id}", summary="Remove a resident (can be restored)")
def delete_resident(resident_id: Id, session: DB, actor: CurrentUser) -> dict:
    service.delete_resident(session, actor, resident_id)
    return {"ok": True, "restore": f"/api/v1/residents/{resident_id}/restore"}


@router.post("/{resident_id}/restore", summary="Undo a removal")
def restore_resident(resident_id: Id, session: DB, actor: CurrentUser) -> dict:
    r = service.restore_resident(session, actor, resident_id)
    return service.present(r, actor)


@router.get("/{resident_id}/audit", summary="The audit trail of a resident record")
def resident_audit(resident_id: Id, session: DB, actor: CurrentUser) -> list[dict]:
    return [
        {
            "at": e.at.isoformat(),
            "actor": e.actor_name,
            "action": e.action,
            "summary": e.summary,
            "before": e.before,
            "after": e.after,
        }
        for e in service.audit_trail(session, actor, resident_id)
    ]
