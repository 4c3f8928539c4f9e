"""HTML pages of the volunteer teams: the roster of teams and a team's page."""

from fastapi import APIRouter, Request

from renxing.volunteers import service
from renxing.volunteers.models import MEMBER_ROLES, SKILL_LABELS, TEAM_KIND_LABELS
from renxing.web.deps import DB, CurrentUser
from renxing.web.i18n import register
from renxing.web.params import Id, PageNo
from renxing.web.templating import render

router = APIRouter(include_in_schema=False)

WEEKDAYS = [("一", "Mon"), ("二", "Tue"), ("三", "Wed"), ("四", "Thu"), ("五", "Fri"), ("六", "Sat"), ("日", "Sun")]
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
    data = service.roster_page(session, actor, q=q, kind=kind or None, sort=sort, page=page, size=20)
    return render(
        request, "volunteers_list.html", {"data": data, "q": q or "", "kind": kind or "", "sort": sort, **LABELS}
    )


@router.get("/volunteers/{team_id}")
def team(request: Request, team_id: Id, session: DB, actor: CurrentUser, q: str | None = None, page: PageNo = 1):
    data = service.team_page(session, actor, team_id, q=q, page=page, size=30)
    return render(request, "volunteers_team.html", {"data": data, "q": q or "", "WEEKDAYS": WEEKDAYS, **LABELS})


register(
    {
        "志愿服务队": "Volunteer teams",
        "队伍": "Teams",
        "队名": "Team",
        "类型": "Kind",
        "社区": "Community",
        "队员": "Members",
        "近12个月服务时长": "Service hours, last 12 months",
        "小时": "hours",
        "联系方式": "Contact",
        "队长": "Leader",
        "证书即将到期": "Certificates expiring soon",
        "已过期": "expired",
        "天后到期": "days left",
        "每月服务时长": "Service hours per month",
        "技能": "Skills",
        "照护上限": "Care limit",
        "可服务时间": "Availability",
        "入队日期": "Joined",
        "队内角色": "Role",
        "电话": "Phone",
        "外来": "from outside",
        "按队名": "By name",
        "按类型": "By kind",
        "最新在前": "Newest first",
        "全部类型": "All kinds",
        "队员姓名": "Member name",
        "月份": "Month",
        "时长": "Hours",
        "次数": "Entries",
        "证书": "Certificate",
        "到期": "Expires",
    }
)
