"""JSON routes of the sensors: devices, readings (device-authenticated batches), rules, triggers."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/sensors", tags=["sensors"])
