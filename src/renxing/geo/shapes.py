"""Stored GeoJSON text as shapely geometry, for code that reads layers the service has validated."""

import json

import shapely.errors
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry


def stored_shape(text: str | None) -> BaseGeometry | None:
    """The geometry of a stored GeoJSON text; None when absent, empty or unreadable, so one
    damaged row leaves a feature out of a map or plan instead of failing the whole page."""
    if not text:
        return None
    try:
        g = shape(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException):
        return None
    return None if g.is_empty else g
