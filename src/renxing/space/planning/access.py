"""Who plans for which community: a planning role, then the grid scope.

Plans (counts only, no person) are for the roles with ``Perm.evacuation_plan``: the community's
staff, the street and the grid workers who lead people out. Saving scenarios and siting need
``Perm.space_write`` over the whole community. A community outside the scope is a 403.
"""

from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.grid.models import GridUnit
from renxing.grid.scope import communities_in_scope, community_in_scope


def require_planner(actor: Principal, perm: Perm = Perm.space_read) -> None:
    """The layer right a planning read (``space_read``) or write (``space_write``) needs, and a planning role."""
    actor.require(perm)
    actor.require(Perm.evacuation_plan)


def community_of(session: Session, actor: Principal, community_id: int, *, write: bool = False) -> GridUnit:
    """The community, if the actor plans for it (reads: scope reaches it; writes: scope covers it)."""
    require_planner(actor, Perm.space_write if write else Perm.space_read)
    return community_in_scope(session, actor, community_id, field="community_id", write=write)


def planning_communities(session: Session, actor: Principal) -> list[GridUnit]:
    require_planner(actor)
    return communities_in_scope(session, actor)
