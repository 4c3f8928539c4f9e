"""HTML pages of the volunteer teams: the roster of teams and a team's page."""

from fastapi import APIRouter, Request

from renxing.i18n import _l
from renxing.listing import ListQuery
from renxing.volunteers import views
from renxing.volunteers.models import MEMBER_ROLES, SKILL_LABELS, TEAM_KIND_LABELS
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, PageNo
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)

WEEKDAYS = [_l("一"), _l("二"), _l("三"), _l("四"), _l("五"), _l("六"), _l("日")]
LABELS = {"TEAM_KIND_LABELS": TEAM_KIND_LABELS, "SKILL_LABELS": SKILL_LABELS, "MEMBER_ROLES": MEMBER_ROLES}


@router.get("/volunteers")
def roster(
    request: Request,
    session: DB,
    actor: CurrentUser,
    q: str | None = None,
    kind: str | None = None,
    sort: str = "name",
    page: PageNo = 1,
):
    query = ListQuery(page=page, size=20, sort=sort, q=q, filters={"kind": kind or None})
    data = views.roster_page(session, actor, query)
    return render(
        request, "volunteers_list.html", {"data": data, "q": q or "", "kind": kind or "", "sort": sort, **LABELS}
    )


@router.get("/volunteers/{team_id}")
def team(request: Request, team_id: Id, session: DB, actor: CurrentUser, q: str | None = None, page: PageNo = 1):
    data = views.team_page(session, actor, team_id, ListQuery(page=page, size=30, q=q))
    return render(request, "volunteers_team.html", {"data": data, "q": q or "", "WEEKDAYS": WEEKDAYS, **LABELS})
