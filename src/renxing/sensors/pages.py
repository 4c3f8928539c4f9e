"""Pages of the sensors: devices on the map, a device's readings charted, rules."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
