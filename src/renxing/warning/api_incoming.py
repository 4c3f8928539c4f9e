"""JSON routes of incoming CAP alerts: upload, list, read, the polled feeds."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/warning", tags=["warning"])
