"""The ASGI application: routers of every domain, error handling, static files."""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from renxing import __version__, migrate
from renxing.auth import api as auth_api
from renxing.auth import pages as auth_pages
from renxing.care import api as care_api
from renxing.care import pages as care_pages
from renxing.config import get_settings
from renxing.db import get_engine, session_factory
from renxing.drills import api as drills_api
from renxing.drills import pages as drills_pages
from renxing.errors import ServiceError
from renxing.evaluation import api as evaluation_api
from renxing.evaluation import pages as evaluation_pages
from renxing.events import api as events_api
from renxing.events import open311
from renxing.events import pages as events_pages
from renxing.events import scheduler as events_scheduler
from renxing.grid import api as grid_api
from renxing.grid import pages as grid_pages
from renxing.notify import api as notify_api
from renxing.partners import api as partners_api
from renxing.people import api as people_api
from renxing.people import import_api
from renxing.people import pages as people_pages
from renxing.people import rights_api as people_rights_api
from renxing.response import api as response_api
from renxing.response import pages as response_pages
from renxing.sensors import api as sensors_api
from renxing.sensors import offline as sensors_offline
from renxing.sensors import pages as sensors_pages
from renxing.sensors.mqtt import Listener
from renxing.signals.bus import bus as signals
from renxing.space import api as space_api
from renxing.space import pages as space_pages
from renxing.space import planning_api as space_planning_api
from renxing.space import riskmap_pages as space_riskmap_pages
from renxing.supplies import api as supplies_api
from renxing.supplies import api_planning as supplies_planning_api
from renxing.supplies import api_stock as supplies_stock_api
from renxing.supplies import pages as supplies_pages
from renxing.supplies import reminders as supplies_reminders
from renxing.volunteers import api as volunteers_api
from renxing.volunteers import pages as volunteers_pages
from renxing.warning import ack_pages as warning_ack_pages
from renxing.warning import api as warning_api
from renxing.warning import api_incoming as warning_incoming_api
from renxing.warning import api_mine, pages_mine
from renxing.warning import api_reach as warning_reach_api
from renxing.warning import climbing as warning_climbing
from renxing.warning import dispatch as warning_dispatch
from renxing.warning import feeds as warning_feeds
from renxing.warning import gateway_receipts as warning_gateway
from renxing.warning import pages as warning_pages
from renxing.warning import pages_incoming as warning_incoming_pages
from renxing.warning import pages_reach as warning_reach_pages
from renxing.warning import public as warning_public
from renxing.web import errors
from renxing.web.body_limit import BodyLimit
from renxing.web.deps import api_body_guard
from renxing.web.i18n import RequestLanguage
from renxing.web.schemas import ERROR_RESPONSES
from renxing.web.security_headers import SecurityHeaders

STATIC = Path(__file__).parent / "web" / "static"
log = logging.getLogger(__name__)

# Jobs the web process runs once a local day when Settings.scheduler is on, beside the
# escalation sweep. Each is idempotent (what it did is in the database), so a restart or a
# second process repeats nothing; a job that fails is tried again at the next tick.
DAILY_JOBS: tuple[Callable[[Engine], object], ...] = (supplies_reminders.run,)
# Jobs it runs every Settings.sweep_seconds: silent sensors found offline, the unreached of sent
# warnings climbing the chain at their deadlines, CAP feeds polled when due. Each reads what is
# due from the database, so several processes lose and double nothing.
PERIODIC_JOBS: tuple[Callable[[Engine], object], ...] = (sensors_offline.run, warning_climbing.run, warning_feeds.run)
# … and every Settings.dispatch_seconds: warnings' deliveries sent through their channels.
DISPATCH_JOBS: tuple[Callable[[Engine], object], ...] = (warning_dispatch.run,)


async def _daily_jobs(app: FastAPI, seconds: float) -> None:
    done: dict[Callable[[Engine], object], date] = {}
    while True:
        today = datetime.now(ZoneInfo(get_settings().timezone)).date()
        for job in DAILY_JOBS:
            if done.get(job) == today:
                continue
            try:
                await run_in_threadpool(job, app.state.engine)
                done[job] = today
            except Exception:
                log.exception("daily job %s failed", getattr(job, "__qualname__", job))
        await asyncio.sleep(seconds)


async def _every(app: FastAPI, seconds: float, jobs: tuple[Callable[[Engine], object], ...]) -> None:
    while True:
        for job in jobs:
            try:
                await run_in_threadpool(job, app.state.engine)
            except Exception:  # tried again at the next tick; the web app keeps serving
                log.exception("job %s failed", getattr(job, "__qualname__", job))
        await asyncio.sleep(seconds)


def _mqtt_listener(app: FastAPI) -> Listener | None:
    """Readings from the broker, when Settings.mqtt_url names one (readings are stored once
    whichever process hears them first)."""
    settings = get_settings()
    if not settings.mqtt_url:
        return None
    listener = Listener(app.state.engine, settings.mqtt_url, settings.mqtt_topic, client_id=settings.mqtt_client_id)
    listener.start()
    return listener


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The escalation sweep (events) and the other background jobs when Settings.scheduler is
    on; the MQTT listener when Settings.mqtt_url is set."""
    settings = get_settings()
    async with events_scheduler.lifespan(app):
        tasks = []
        if settings.scheduler:
            tick = max(1, settings.sweep_seconds)
            tasks = [
                asyncio.create_task(_daily_jobs(app, tick)),
                asyncio.create_task(_every(app, tick, PERIODIC_JOBS)),
                asyncio.create_task(_every(app, max(1, settings.dispatch_seconds), DISPATCH_JOBS)),
            ]
        listener = _mqtt_listener(app)
        try:
            yield
        finally:
            if listener is not None:
                listener.stop()
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task


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
        lifespan=lifespan,  # background jobs when Settings.scheduler is on, the MQTT listener when mqtt_url is set
        dependencies=[Depends(api_body_guard)],  # API writes: JSON bodies, forms only where a route takes them
        responses=ERROR_RESPONSES,  # every operation documents its errors in the app's own shape
    )
    signals.ensure_wired()  # who listens to which domain event, settled before the first request
    app.state.engine = engine
    app.state.session_factory = session_factory(engine)
    app.add_exception_handler(ServiceError, errors.service_error)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(StarletteHTTPException, errors.http_error)
    app.add_middleware(BodyLimit)  # bodies over the route's size refused (413) as they arrive
    app.add_middleware(SecurityHeaders)  # CSP (script only from our files), nosniff, no framing, referrer
    app.add_middleware(RequestLanguage)  # ?lang=, the lang cookie, Accept-Language: the language of the request
    # A household's tap on its warning link comes in thousands at once: its routes are matched first.
    app.include_router(warning_ack_pages.router)
    for module in (auth_api, grid_api, import_api, people_rights_api, people_api, auth_pages, grid_pages, people_pages):
        app.include_router(module.router)
    app.include_router(auth_api.users)
    app.include_router(events_api.router)
    app.include_router(notify_api.router)
    app.include_router(events_pages.router)
    app.include_router(open311.router)  # Open311 GeoReport v2 under /open311/v2/
    app.include_router(space_api.router)  # map layers, exposure, checks under /api/v1/space/
    app.include_router(space_planning_api.router)  # scenarios, plan, what-if, coverage, siting
    app.include_router(space_pages.router)  # /space risk map, /space/evacuation
    app.include_router(space_riskmap_pages.router)  # /space/riskmap/{id}.pdf|.png, the printable map
    # Partners, drills and trainings, public evaluation.
    for module in (partners_api, drills_api, drills_pages, evaluation_api, evaluation_pages):
        app.include_router(module.router)
    # Volunteer teams and care for the vulnerable.
    for module in (volunteers_api, volunteers_pages, care_api, care_pages):
        app.include_router(module.router)
    # The cloud warehouse of emergency supplies.
    for module in (supplies_api, supplies_stock_api, supplies_planning_api, supplies_pages):
        app.include_router(module.router)
    # Sensors and early warning: CAP in and out, warnings to every household.
    for module in (sensors_api, sensors_pages, warning_incoming_api, warning_incoming_pages, warning_api):
        app.include_router(module.router)
    for module in (api_mine, pages_mine, warning_pages, warning_public, warning_reach_api, warning_reach_pages):
        app.include_router(module.router)
    app.include_router(warning_gateway.router)  # signed delivery receipts from the SMS and voice gateways
    # Operating modes of the communities (normal, alert, emergency, recovery).
    for module in (response_api, response_pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
