"""The escalation sweep inside the web process, every ``Settings.sweep_seconds`` when
``Settings.scheduler`` is on (``RENXING_SCHEDULER=true``).

Nothing is kept in memory between runs: each sweep reads what is due from the database, so
a restart, or several processes doing the same, lose and double nothing. Deployments with
many web workers may instead leave it off and run ``renxing events sweep --loop 60`` once.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from renxing.config import get_settings
from renxing.events.sweep import run_sweep

log = logging.getLogger(__name__)


async def _loop(app: FastAPI, seconds: float) -> None:
    while True:
        try:
            await run_in_threadpool(run_sweep, app.state.engine)
        except Exception:  # a failed sweep is retried at the next tick; the web app keeps serving
            log.exception("escalation sweep failed")
        await asyncio.sleep(seconds)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    task = asyncio.create_task(_loop(app, max(1, settings.sweep_seconds))) if settings.scheduler else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
