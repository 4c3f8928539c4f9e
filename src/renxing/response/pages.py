"""HTML pages of the operating modes: ``/response`` (each community's mode as a card, the switch
form with the allowed targets only, pending proposals, the history) and the badge every page
shows in its top bar while a community the reader sees is not in normal mode (``mode_badges``, a
template global read in the request's own session, as ``warning_banners`` is)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session, object_session

from renxing.auth.principal import Principal
from renxing.errors import Conflict, FieldError, Invalid
from renxing.i18n import localized
from renxing.listing import ListQuery
from renxing.response import modes, proposals
from renxing.response.models import PROPOSAL_LABELS, ModeState
from renxing.web import csrf
from renxing.web.deps import DB, CurrentUser
from renxing.web.pagekit import PostedForm
from renxing.web.params import Id, PageNo, form_id
from renxing.web.templating import render, templates

router = APIRouter(include_in_schema=False)
HISTORY_PAGE = 20


def mode_badges(request: Request) -> list[dict[str, Any]]:
    """The communities the reader sees that are not in normal mode (nothing when logged out)."""
    principal = getattr(request.state, "principal", None)
    login = getattr(request.state, "auth_session", None)
    session = object_session(login) if login is not None else None
    if principal is None or session is None:
        return []
    out = []
    for name, mode in modes.not_normal(session, principal):
        state = session.get(ModeState, mode.state)
        label = localized(state.name_zh, state.name_en) if state is not None else mode.state
        out.append({"community": name, "state": mode.state, "label": label, "exercise": mode.exercise})
    return out


templates.env.globals["mode_badges"] = mode_badges


def _context(session: Session, actor: Principal, unit_id: int | None, page: int) -> dict[str, Any]:
    cards = modes.modes_under(session, actor)
    chosen = next((c for c in cards if c.unit_id == unit_id), None)
    names = modes.state_names(session)
    targets = {c.unit_id: modes.transitions_from(session, c.mode.state) for c in cards if c.may_switch}
    pending = proposals.list_proposals(session, actor, ListQuery(size=50, filters={"status": "pending"}))
    filters = {"unit_id": chosen.unit_id} if chosen is not None else {}
    history = modes.history(session, actor, ListQuery(page=page, size=HISTORY_PAGE, filters=filters))
    community_names = {c.unit_id: c.name for c in cards}
    return {
        "cards": cards,
        "chosen": chosen,
        "names": names,
        "targets": targets,
        "proposals": pending.items,
        "switchable": {c.unit_id for c in cards if c.may_switch},
        "history": history,
        "community_names": community_names,
        "PROPOSAL_LABELS": PROPOSAL_LABELS,
        "errors": {},
        "failed": None,
        "values": {},
    }


@router.get("/response")
def response_page(
    request: Request,
    session: DB,
    actor: CurrentUser,
    unit_id: Annotated[str | None, Query(max_length=20)] = None,
    page: PageNo = 1,
):
    return render(request, "response.html", _context(session, actor, form_id(unit_id, "unit_id"), page))


def _text(form, name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


@router.post("/response/{unit_id}/switch")
def switch(request: Request, unit_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, _text(form, "csrf_token"))
    try:
        with session.begin_nested():
            target = _text(form, "to_state") or ""
            modes.switch(
                session, actor, unit_id, target, _text(form, "reason"), exercise=_text(form, "exercise") is not None
            )
    except (Invalid, Conflict) as exc:
        ctx = _context(session, actor, unit_id, 1)
        errors = exc.errors or [FieldError("form", exc.message)]
        ctx.update(
            failed=unit_id,
            message=exc.message,
            errors={e.field: e.message for e in errors},
            values={k: v for k, v in form.items() if k != "csrf_token" and isinstance(v, str)},
        )
        return render(request, "response.html", ctx, status_code=exc.status)
    return RedirectResponse(f"/response?unit_id={unit_id}", status_code=303)


@router.post("/response/proposals/{proposal_id}/confirm")
def confirm(request: Request, proposal_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, _text(form, "csrf_token"))
    row = proposals.confirm(session, actor, proposal_id)
    return RedirectResponse(f"/response?unit_id={row.unit_id}", status_code=303)


@router.post("/response/proposals/{proposal_id}/dismiss")
def dismiss(request: Request, proposal_id: Id, session: DB, actor: CurrentUser, form: PostedForm):
    csrf.check(request, _text(form, "csrf_token"))
    row = proposals.dismiss(session, actor, proposal_id)
    return RedirectResponse(f"/response?unit_id={row.unit_id}", status_code=303)
