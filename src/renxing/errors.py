"""Errors the service layer raises; the web layer turns each into one HTTP status."""

from dataclasses import dataclass, field

from renxing.i18n import _


@dataclass
class FieldError:
    field: str
    message: str
    row: int | None = None  # for imports: the spreadsheet row (1-based, header is row 1)
    value: str | None = None

    def __post_init__(self) -> None:
        self.message = str(self.message)  # a lazy label becomes text in the language of the moment


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, errors: list[FieldError] | None = None):
        super().__init__(message)
        self.message = str(message)
        self.errors = errors or []


class NotAuthenticated(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class UnsupportedMediaType(ServiceError):
    """A request body in a content type the route does not take (e.g. text/plain for JSON)."""

    status = 415


class TooManyRequests(ServiceError):
    """Too many attempts (failed logins); the next is accepted after ``retry_after`` seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int, errors: list[FieldError] | None = None):
        super().__init__(message, errors)
        self.retry_after = retry_after


class Invalid(ServiceError):
    """Bad input; ``errors`` names each field (and row) at fault."""

    status = 422


@dataclass
class Collector:
    """Gathers field errors so a form or a file reports all of them at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str, message: str, row: int | None = None, value: object = None) -> None:
        self.errors.append(FieldError(field_name, message, row, None if value is None else str(value)))

    def raise_if_any(self, message: str | None = None) -> None:
        if self.errors:
            raise Invalid(message or _("输入有误"), self.errors)
