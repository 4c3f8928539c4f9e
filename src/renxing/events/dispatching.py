"""Dispatching: who gets a new report.

    decision = route_place(session, routing.Place(category, level, path, unit_id, household_id))
    decision = decide_route(session, place)     # the same, read afresh without any cache

The inputs (the active routing rules, the place's responsibility chain, the community staff
covering it) are read from the database and cached per process under the ``routing`` version
(:mod:`renxing.events.cache`); the decision is the pure :func:`renxing.events.routing.route`.
"""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renxing.auth.models import User, UserScope
from renxing.auth.policy import Role
from renxing.events import cache, routing
from renxing.events.lookups import active_users, user_label
from renxing.events.models import RoutingRule
from renxing.grid import service as grid_service
from renxing.grid.models import GridUnit
from renxing.grid.scope import path_ids


def route_place(
    session: Session, place: routing.Place, on: date | None = None, versions: cache.Versions | None = None
) -> routing.Decision:
    """Let :func:`routing.route` pick the handler from the active rules, the place's chain and
    the staff covering it. The rules are read once per process and the chain and staff once
    per place until a rule, the chain, a user, a scope or a unit changes (the ``routing``
    version); deciding from them is pure and quick."""
    v = versions or cache.versions(session)
    db = cache.database_of(session)
    day = on or date.today()
    rules = cache.decisions.get(db, v.routing, ("rules",), lambda: routing_rules(session))
    holders, staff = cache.decisions.get(
        db,
        v.routing,
        ("place", place.unit_id, place.household_id, place.path, day),
        lambda: place_people(session, place, day),
    )
    return routing.route(place, rules, holders, staff)


def routing_rules(session: Session) -> list[routing.Rule]:
    """Every active rule, with its unit's path and its user's label (None when inactive)."""
    rows = session.execute(
        select(RoutingRule, GridUnit.path)
        .outerjoin(GridUnit, GridUnit.id == RoutingRule.unit_id)
        .where(RoutingRule.active.is_(True))
    ).all()
    users = active_users(session, {r.user_id for r, _ in rows if r.user_id})
    return [
        routing.Rule(
            id=r.id,
            category_code=r.category_code,
            level=r.level,
            unit_path=path,
            handler_kind=r.handler_kind,
            duty=r.duty,
            user_id=r.user_id,
            user_label=user_label(users[r.user_id]) if r.user_id in users else None,
            org_name=r.org_name,
            priority=r.priority,
        )
        for r, path in rows
    ]


def place_people(
    session: Session, place: routing.Place, on: date | None = None
) -> tuple[list[routing.Holder], list[routing.Staff]]:
    """The place's chain (holders with an active account keep their user id) and the
    community staff covering it, the deepest scope first."""
    links = grid_service.chain(session, unit_id=place.unit_id, household_id=place.household_id, on=on)
    people = [(link, p) for link in links for p in link.people]
    staff_rows = session.execute(
        select(User, GridUnit.path)
        .join(UserScope, UserScope.user_id == User.id)
        .join(GridUnit, GridUnit.id == UserScope.unit_id)
        .where(
            UserScope.unit_id.in_(path_ids(place.path)),
            User.role == Role.community_staff.value,
            User.is_active.is_(True),
        )
        .order_by(func.length(GridUnit.path).desc(), User.id)
    ).all()
    users = active_users(session, {p.user_id for _, p in people if p.user_id})
    holders = [
        routing.Holder(
            duty=link.duty.value,
            name=p.person_name,
            user_id=p.user_id if p.user_id in users else None,
            unit_name=link.unit_name,
        )
        for link, p in people
    ]
    return holders, [routing.Staff(u.id, user_label(u)) for u, _ in staff_rows]


def decide_route(session: Session, place: routing.Place, on: date | None = None) -> routing.Decision:
    """The same decision as :func:`route_place`, from the database without any cache."""
    holders, staff = place_people(session, place, on)
    return routing.route(place, routing_rules(session), holders, staff)
