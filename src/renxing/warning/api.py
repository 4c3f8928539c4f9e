"""JSON routes of warnings sent: compose, submit, approve, send, update, cancel."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/warning", tags=["warning"])
