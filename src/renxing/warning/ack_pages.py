"""The one-tap acknowledgement a household opens from its link: no login, a plain form that works
without JavaScript (the WeChat browser, an old phone), and its JSON twin for apps.

The token in the path is the credential: it is checked by its MAC before anything is shown, so the
form carries no CSRF token (a page elsewhere that posted it would need the household's token, and
would only acknowledge that household). These routes sit on one router, which the app includes
first: a tap is the busiest request while a warning goes out, and is matched before any other.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import sessionmaker

from renxing.errors import Conflict
from renxing.warning import acks
from renxing.warning.models import LEVEL_LABELS
from renxing.warning.reach_schemas import LinkAckOut
from renxing.web.deps import DB
from renxing.web.templating import render

router = APIRouter()

# Any text up to a sane length: a token of the wrong shape is a forged one (404), like any other.
Token = Annotated[str, Path(max_length=100, description="the link's token: <target>.<mac>")]


@router.get("/w/{token}", include_in_schema=False)
def ack_page(request: Request, token: Token, session: DB):
    view = acks.read_link(session, token)
    ctx = {"view": view, "token": token, "LEVEL_LABELS": LEVEL_LABELS, "thanks": request.query_params.get("done")}
    return render(request, "ack.html", ctx)


@router.post("/w/{token}", include_in_schema=False)
def ack_form(token: Token, session: DB):
    """The big button: acknowledged (or already), then the page again, so a reload posts nothing."""
    try:
        acks.acknowledge_link(session, token)
    except Conflict:
        return RedirectResponse(f"/w/{token}", status_code=303)
    return RedirectResponse(f"/w/{token}?done=1", status_code=303)


class Taps:
    """The taps that arrive together, written together: while one batch is in the database the
    next gathers, so under load each transaction carries many taps (a few statements and one
    commit for all of them) and alone a tap goes at once. One thread of its own writes them in
    turn, so taps never queue for the database behind each other's locks. Each tap still gets
    its own answer; should a batch fail as a whole, its taps are written one by one, so one
    cannot fail another."""

    MAX = 200

    def __init__(self, factory: sessionmaker) -> None:
        self.factory = factory
        self.loop = asyncio.get_running_loop()
        self.waiting: list[tuple[str, asyncio.Future]] = []
        self.busy = False
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="warning-taps")

    async def tap(self, token: str) -> acks.LinkView:
        future = self.loop.create_future()
        self.waiting.append((token, future))
        if not self.busy:
            self.busy = True
            self.loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[: self.MAX], self.waiting[self.MAX :]
                try:
                    results = await self.loop.run_in_executor(self.writer, self._write, [t for t, _ in batch])
                except Exception as exc:  # the database is gone: every tap of the batch hears it
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self.busy = False

    def _write(self, batch: list[str]) -> list:
        try:
            with self.factory.begin() as session:
                return acks.acknowledge_links(session, batch)
        except Exception:
            if len(batch) == 1:
                raise
        out: list = []
        for token in batch:
            try:
                with self.factory.begin() as session:
                    out.append(acks.acknowledge_link(session, token))
            except Exception as exc:
                out.append(exc)
        return out


def _taps(request: Request) -> Taps:
    """The app's writer of taps (one per event loop)."""
    taps = getattr(request.app.state, "warning_taps", None)
    if taps is None or taps.loop is not asyncio.get_running_loop():
        if taps is not None:  # a test client's loop came and went: its writer goes with it
            taps.writer.shutdown(wait=False)
        taps = request.app.state.warning_taps = Taps(request.app.state.session_factory)
    return taps


@router.post(
    "/api/v1/warning/ack/{token}",
    response_model=LinkAckOut,
    tags=["warning"],
    summary="A household acknowledges a warning with its link's token (no login; 409 when already)",
)
async def ack_api(request: Request, token: Token) -> Response:
    view = await _taps(request).tap(token)
    # Shaped here, as LinkAckOut documents it: the busiest answer skips a second validation.
    body = {
        "warning_id": view.warning_id,
        "level": view.level,
        "headline": view.headline,
        "acknowledged_at": view.acknowledged_at.isoformat() if view.acknowledged_at else None,
        "lifted": view.lifted,
    }
    return JSONResponse(body)
