"""Pages of warnings sent: the list, compose (with a drawn polygon), approve."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
