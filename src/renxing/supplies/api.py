"""JSON routes of the cloud warehouse: items, storage points, minimum levels, agreements."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/supplies", tags=["supplies"])
