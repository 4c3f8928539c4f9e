"""Turns service errors and request validation errors into clear 4xx answers, never a 500."""

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from renxing.errors import FieldError, NotAuthenticated, ServiceError, TooManyRequests
from renxing.i18n import _
from renxing.web.templating import render_error


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/open311/")) and "text/html" in request.headers.get("accept", "")


async def service_error(request: Request, exc: ServiceError):
    if isinstance(exc, NotAuthenticated) and _wants_html(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if _wants_html(request):
        return render_error(request, exc.status, exc.message, exc.errors)
    body = {
        "detail": exc.message,
        "errors": [e.__dict__ for e in exc.errors],
    }
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def validation_error(request: Request, exc: RequestValidationError):
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "form")]
        errors.append(
            {"field": ".".join(loc) or "request", "message": e.get("msg", "invalid"), "row": None, "value": None}
        )
    if _wants_html(request):  # a page's bad id or page number: the error page, naming the field
        return render_error(request, 422, _("输入有误"), [FieldError(**e) for e in errors])
    return JSONResponse({"detail": _("输入有误"), "errors": errors}, status_code=422)


async def http_error(request: Request, exc: StarletteHTTPException):
    if _wants_html(request):
        return render_error(request, exc.status_code, str(exc.detail), [])
    return JSONResponse(
        {"detail": exc.detail, "errors": []}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
    )
