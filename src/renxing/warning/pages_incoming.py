"""Pages of incoming CAP alerts: the list, one alert with its matched communities on a map, feeds."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
