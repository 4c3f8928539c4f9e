"""Pages of a warning's reach: live progress per building and area, the list of unreached households."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
