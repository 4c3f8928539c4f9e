"""The one-tap acknowledgement page a household opens from its link (no login)."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
