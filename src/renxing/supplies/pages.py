"""HTML pages of the cloud warehouse."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
