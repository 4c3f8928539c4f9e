"""The ASGI application: routers of every domain, error handling, static files."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from renxing import __version__, migrate
from renxing.auth import api as auth_api
from renxing.auth import pages as auth_pages
from renxing.db import get_engine, session_factory
from renxing.errors import ServiceError
from renxing.events import api as events_api
from renxing.events import open311
from renxing.events import pages as events_pages
from renxing.events import scheduler as events_scheduler
from renxing.grid import api as grid_api
from renxing.grid import pages as grid_pages
from renxing.notify import api as notify_api
from renxing.people import api as people_api
from renxing.people import import_api
from renxing.people import pages as people_pages
from renxing.web import errors

STATIC = Path(__file__).parent / "web" / "static"


def create_app(engine: Engine | None = None, *, upgrade: bool = True) -> FastAPI:
    engine = engine or get_engine()
    if upgrade:
        migrate.upgrade(engine)
    app = FastAPI(
        title="Renxing 韧性 API",
        version=__version__,
        description="Resilient governance of urban communities. JSON API under /api/v1/.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=events_scheduler.lifespan,  # the escalation sweep, when Settings.scheduler is on
    )
    app.state.engine = engine
    app.state.session_factory = session_factory(engine)
    app.add_exception_handler(ServiceError, errors.service_error)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(StarletteHTTPException, errors.http_error)
    for module in (auth_api, grid_api, import_api, people_api, auth_pages, grid_pages, people_pages):
        app.include_router(module.router)
    app.include_router(auth_api.users)
    app.include_router(events_api.router)
    app.include_router(notify_api.router)
    app.include_router(events_pages.router)
    app.include_router(open311.router)  # Open311 GeoReport v2 under /open311/v2/
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
