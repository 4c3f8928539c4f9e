"""The public side of reports: which reports anyone may read, what they read, and the text
staff publish for them (like FixMyStreet's moderated reports).

    public_clause()                                   the reports the public may see, as SQL
    public_views(session, reports)                    what the public reads of each (others left out)
    public_view(session, report)                      one report's public view, or None
    publicity(session, actor, report_id)              staff's view: public or not and why, the copy
    set_public_text(session, actor, report_id, text)  moderate: audited, the reporter's words kept

Every read without a login (Open311 ``GET requests``, ``requests/{id}``, ``tokens/{token}``,
and any public page or feed to come) goes through :func:`public_clause` and
:func:`public_views`; nothing else decides what is public. The rule itself is the pure
:func:`renxing.events.scrub.may_publish`: the reporter agreed, the category is not private,
the report did not come from another domain. A public report shows its category, state,
times, the handling body and its place rounded to the building (or the area): the building's
address and point, never the flat, the reporter's address words or the exact point. Its text
is the copy staff wrote, scrubbed of phone and ID numbers, rooms and names (those of the
reporter and the residents of the building too) each time it is shown; until staff write
one, the public reads no text at all.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.orm import Session

from renxing.auth import audit
from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.db import utcnow
from renxing.errors import FieldError, Forbidden, Invalid
from renxing.events import access, lookups
from renxing.events.models import EventCategory, Report, ReportPublicText, ReportState
from renxing.events.policy import OPEN_STATES, ActorKind, State
from renxing.events.scrub import PRIVATE_CHANNELS, may_publish, scrub
from renxing.grid.models import Building, GridUnit
from renxing.grid.scope import path_ids
from renxing.i18n import _
from renxing.people.models import Resident

MAX_PUBLIC_TEXT = 2000
ROUND_DIGITS = 3  # about 100 m: a point the public may see when no unit point is known


def public_clause():
    """The reports anyone may read: the SQL twin of :func:`may_publish` (a test keeps them equal)."""
    private = select(EventCategory.code).where(EventCategory.private.is_(True))
    return and_(
        Report.public_consent.is_(True),
        Report.channel.not_in(sorted(PRIVATE_CHANNELS)),
        Report.category_code.not_in(private),
    )


def _is_public(report: Report, category: EventCategory | None) -> bool:
    private = category is None or category.private  # an unknown category is nobody's to publish
    return may_publish(consent=report.public_consent, channel=report.channel, category_private=private)


def _updated(report: Report) -> datetime:
    if State(report.state) not in OPEN_STATES:
        return report.closed_at or report.resolved_at or report.updated_at
    return max(report.updated_at, report.escalated_at or report.updated_at)  # the sweep leaves updated_at


def known_names(session: Session, reports: list[Report]) -> dict[int, set[str]]:
    """Per report, the names its public text must never carry: the reporter's and those of the
    residents registered in its building."""
    paths = {r.path for r in reports}
    by_path: dict[str, set[str]] = {}
    if paths:
        for path, name in session.execute(select(Resident.path, Resident.name).where(Resident.path.in_(paths))):
            by_path.setdefault(path, set()).add(name)
    return {r.id: {n for n in (r.reporter_name, *by_path.get(r.path, ())) if n} for r in reports}


def public_views(session: Session, reports: list[Report]) -> list[dict[str, Any]]:
    """What anyone may read of each report, in the order given; reports that are not public
    are left out, whoever asked for them."""
    cats = {c.code: c for c in session.scalars(select(EventCategory))}
    reports = [r for r in reports if _is_public(r, cats.get(r.category_code))]
    if not reports:
        return []
    labels = {s.code: (s.label_zh, s.label_en) for s in session.scalars(select(ReportState))}
    unit_ids = {i for r in reports for i in path_ids(r.path)} | {r.unit_id for r in reports}
    units = {u.id: u for u in session.scalars(select(GridUnit).where(GridUnit.id.in_(unit_ids)))}
    addresses = dict(
        session.execute(
            select(Building.id, Building.address).where(
                Building.id.in_({r.unit_id for r in reports}), Building.address.is_not(None)
            )
        ).all()
    )
    ids = [r.id for r in reports]
    stmt = select(ReportPublicText).where(ReportPublicText.report_id.in_(ids))
    texts = {t.report_id: t for t in session.scalars(stmt)}
    names = known_names(session, [r for r in reports if r.id in texts])
    out = []
    for r in reports:
        unit = units.get(r.unit_id)
        cat = cats[r.category_code]
        place = addresses.get(r.unit_id) or "，".join(units[i].name for i in reversed(path_ids(r.path)) if i in units)
        if unit is not None and unit.lon is not None and unit.lat is not None:
            lon, lat = unit.lon, unit.lat
        elif r.lon is not None and r.lat is not None:
            lon, lat = round(r.lon, ROUND_DIGITS), round(r.lat, ROUND_DIGITS)
        else:
            lon = lat = None
        moderated = texts.get(r.id)
        media_url = (r.attributes or {}).get("media_url") if moderated and r.channel == "open311" else None
        out.append(
            {
                "id": r.id,
                "token": r.token,
                "category": r.category_code,
                "category_name": (cat.name_zh, cat.name_en),
                "state": r.state,
                "state_label": labels.get(r.state, (r.state, r.state)),
                "open": State(r.state) in OPEN_STATES,
                "severity": r.severity,
                "handler": r.handler_label,
                "escalated": bool(r.escalation_level),
                "merged_into_id": r.merged_into_id,
                "unit_id": r.unit_id,
                "unit_code": unit.code if unit else None,
                "unit_level": unit.level if unit else None,
                "place": place,
                "lon": lon,
                "lat": lat,
                "description": scrub(moderated.text, names.get(r.id, ())) if moderated else None,
                "moderated": moderated is not None,
                "media_url": media_url,
                "created_at": r.created_at,
                "updated_at": _updated(r),
                "expected_at": r.due_resolve,
            }
        )
    return out


def public_view(session: Session, report: Report) -> dict[str, Any] | None:
    views = public_views(session, [report])
    return views[0] if views else None


# ---- staff: what is public and the public text ---------------------------------------------


def _reasons(report: Report, category: EventCategory | None) -> list[str]:
    out = []
    if report.channel in PRIVATE_CHANNELS:
        out.append(_("由其他业务生成（如关怀走访、传感器），不公开"))
    if not report.public_consent:
        out.append(_("上报人未同意公开"))
    if category is None or category.private:
        name = category.name_zh if category else report.category_code
        out.append(_("类别「{name}」不公开").format(name=name))
    return out


def publicity(session: Session, actor: Principal, report_id: int) -> dict[str, Any]:
    """Whether the report is public and why not, the text staff wrote and what the public reads."""
    report, kinds = access.load_report(session, actor, report_id)
    category = lookups.category_of(session, report.category_code)
    row = session.get(ReportPublicText, report.id)
    names = known_names(session, [report])[report.id]
    view = public_view(session, report)
    return {
        "report_id": report.id,
        "public": view is not None,
        "reasons": _reasons(report, category),
        "public_consent": report.public_consent,
        "category_private": category.private if category else True,
        "text": row.text if row else None,
        "published": scrub(row.text, names) if row else None,
        "moderated_at": row.moderated_at.isoformat() if row else None,
        "may_moderate": may_moderate(actor, kinds),
        "view": _plain(view) if view else None,
    }


def _plain(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in view.items()}


def may_moderate(actor: Principal, kinds: frozenset[ActorKind]) -> bool:
    """Staff of the report's place who may publish (community staff and the street; grid workers
    handle reports but do not write what the public reads)."""
    return ActorKind.staff in kinds and actor.can(Perm.reports_moderate)


def set_public_text(
    session: Session, actor: Principal, report_id: int, text: str | None, *, now: datetime | None = None
) -> dict[str, Any]:
    """Staff write (or, with an empty text, withdraw) what the public reads of a report. The
    reporter's description is never changed; the change is audited with the scrubbed texts."""
    now = now or utcnow()
    report, kinds = access.load_report(session, actor, report_id, for_update=True)
    if not may_moderate(actor, kinds):
        raise Forbidden(_("只有辖区社区工作者和街道管理员可以编辑公开内容"))
    text = (text or "").strip()
    if len(text) > MAX_PUBLIC_TEXT:
        msg = _("公开内容过长（{max_public_text}）").format(max_public_text=MAX_PUBLIC_TEXT)
        raise Invalid(msg, [FieldError("text", msg, value=len(text))])
    names = known_names(session, [report])[report.id]
    old = session.get(ReportPublicText, report.id)
    old_text = old.text if old else ""
    if old is not None:
        session.expunge(old)
    # Delete then insert: two moderators at once end with the later text, never an error.
    session.execute(delete(ReportPublicText).where(ReportPublicText.report_id == report.id))
    if text:
        session.execute(
            insert(ReportPublicText).values(
                report_id=report.id, text=text, moderated_by_user_id=actor.user_id, moderated_at=now
            )
        )
    if old_text != text:
        audit.record(
            session,
            actor,
            "moderate",
            "report",
            report.id,
            summary=_("公开内容") if text else _("撤下公开内容"),
            before={"public_text": scrub(old_text, names) or None},
            after={"public_text": scrub(text, names) or None},
        )
    return publicity(session, actor, report.id)
