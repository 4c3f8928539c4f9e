"""JSON routes of a warning's reach: progress per building and area, the unreached, acknowledgements."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/warning", tags=["warning"])
