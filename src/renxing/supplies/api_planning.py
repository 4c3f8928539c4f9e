"""JSON routes of days of autonomy and emergency allocation runs."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/supplies", tags=["supplies"])
