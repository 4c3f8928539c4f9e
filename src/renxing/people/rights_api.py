"""JSON routes for a person's requests under PIPL: a copy of their data, and its erasure."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from renxing.people import subject_rights
from renxing.people.schemas import ErasureOut, PersonalDataOut
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id

router = APIRouter(prefix="/api/v1/residents", tags=["residents"])


class ErasureRequest(BaseModel):
    confirm_name: str = Field(..., min_length=1, max_length=60, description="the resident's name, typed again")


@router.get(
    "/{resident_id}/personal-data",
    response_model=PersonalDataOut,
    summary="Everything held about one resident, in the clear (PIPL art. 45; community staff; audited)",
)
def export_personal_data(resident_id: Id, session: DB, actor: CurrentUser) -> dict:
    return subject_rights.export_personal_data(session, actor, resident_id)


@router.post(
    "/{resident_id}/erase",
    response_model=ErasureOut,
    summary="Erase one resident's personal data on their request (PIPL art. 47; community staff; audited)",
)
def erase_personal_data(resident_id: Id, body: ErasureRequest, session: DB, actor: CurrentUser) -> dict:
    return subject_rights.erase_personal_data(session, actor, resident_id, confirm_name=body.confirm_name)
