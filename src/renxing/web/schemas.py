"""The shapes every JSON route shares: the error body, a page of items, and the error answers
documented on every operation, so the OpenAPI document describes what the app really sends."""

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")

# A moment as the API sends it: ISO 8601 text with its offset.
IsoTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class FieldErrorOut(BaseModel):
    field: str = Field(description="the request field at fault, e.g. `unit_id`, `rows.3.phone`")
    message: str
    row: int | None = Field(None, description="the spreadsheet row of an import, from 2")
    value: Any = Field(None, description="the offending value where showing it discloses nothing")


class ErrorOut(BaseModel):
    """Every 4xx of the API: one sentence, then each field at fault."""

    detail: str
    errors: list[FieldErrorOut] = []


class PageOut(BaseModel, Generic[T]):
    """One page of a list: the items, the total matching rows, and where this page is."""

    items: list[T]
    total: int
    page: int
    size: int
    pages: int


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# Declared on the application, so every operation documents them in the app's own shape (and
# FastAPI's default validation-error schema, which the app never sends, is left out).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("not logged in, or the session or key has expired"),
    403: _error("the role may not do this, or the place is outside the user's grid scope"),
    404: _error("no such record in the user's scope"),
    409: _error("the request conflicts with the record's current state"),
    422: _error("invalid input: each field at fault is named in `errors`"),
}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_answer(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a route that sends a file (xlsx, PDF, PNG, GeoJSON download): its media type and
    a binary body, for the route's ``responses=`` and ``response_class``."""
    return {
        200: {
            "description": description,
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        }
    }
