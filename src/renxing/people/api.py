"""JSON routes of the resident register."""

from typing import Annotated

from fastapi import APIRouter, Query

from renxing.grid.service import get_unit
from renxing.people import service
from renxing.people.schemas import AuditEntryOut, RemovedOut, ResidentIn, ResidentOut, ResidentPatch
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams
from renxing.web.schemas import PageOut

router = APIRouter(prefix="/api/v1/residents", tags=["residents"])


@router.get(
    "",
    response_model=PageOut[ResidentOut],
    summary="Residents in the user's scope, masked, one page (sort: grid, id, name, birth_date; '-' descending)",
)
def list_residents(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    unit_id: Annotated[Id | None, Query(description="only this unit's subtree")] = None,
    household_id: Annotated[Id | None, Query(description="only this household")] = None,
    tag: Annotated[str | None, Query(description="vulnerability tag, e.g. aged80, living_alone")] = None,
) -> dict:
    """`q` searches names; a phone number or a full ID number only for roles that see them in the clear."""
    unit_path = None
    if unit_id is not None:
        unit_path = get_unit(session, actor, unit_id).path
    result = service.list_residents(
        session,
        actor,
        unit_path=unit_path,
        household_id=household_id,
        q=query.q,
        tag=tag,
        sort=query.sort,
        page=query.page,
        size=query.size,
    )
    return result.to_dict([service.present(r, actor, frozenset()) for r in result.items])


@router.get(
    "/{resident_id}", response_model=ResidentOut, summary="One resident; fields the role needs in the clear (audited)"
)
def get_resident(resident_id: Id, session: DB, actor: CurrentUser) -> dict:
    return service.get_resident(session, actor, resident_id)


@router.post("", status_code=201, response_model=ResidentOut, summary="Register a resident")
def create_resident(data: ResidentIn, session: DB, actor: CurrentUser) -> dict:
    r = service.create_resident(session, actor, data)
    return service.present(r, actor)


@router.patch("/{resident_id}", response_model=ResidentOut, summary="Change a resident's data")
def update_resident(resident_id: Id, patch: ResidentPatch, session: DB, actor: CurrentUser) -> dict:
    r = service.update_resident(session, actor, resident_id, patch)
    return service.present(r, actor)


@router.delete("/{resident_id}", response_model=RemovedOut, summary="Remove a resident (can be restored)")
def delete_resident(resident_id: Id, session: DB, actor: CurrentUser) -> dict:
    service.delete_resident(session, actor, resident_id)
    return {"ok": True, "restore": f"/api/v1/residents/{resident_id}/restore"}


@router.post("/{resident_id}/restore", response_model=ResidentOut, summary="Undo a removal")
def restore_resident(resident_id: Id, session: DB, actor: CurrentUser) -> dict:
    r = service.restore_resident(session, actor, resident_id)
    return service.present(r, actor)


@router.get("/{resident_id}/audit", response_model=list[AuditEntryOut], summary="The audit trail of a resident record")
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
