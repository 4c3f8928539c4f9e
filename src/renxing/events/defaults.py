"""The closed loop's starting configuration: 13 categories, deadlines per severity, the
states and transitions, and default routing rules.

Migration 0002 inserts a frozen copy of these into every new database. :func:`install_defaults`
puts back whatever is missing (after a wipe in tests, or in a demo database) without touching
rows staff have changed.
"""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.events.models import EventCategory, ReportState, ReportTransition, RoutingRule, SeverityDeadline

CATEGORIES = [
    # code, 中文, English, group, default severity, handler kind
    ("fire_hazard", "消防隐患", "Fire hazard", "安全", "high", "grid_worker"),
    ("waterlogging", "积水内涝", "Waterlogging", "安全", "high", "grid_worker"),
    ("building_danger", "房屋安全", "Building danger", "安全", "high", "grid_worker"),
    ("gas", "燃气", "Gas", "安全", "urgent", "utility"),
    ("electrical", "用电", "Electrical hazard", "安全", "high", "property"),
    ("falling_objects", "高空坠物", "Falling objects", "安全", "high", "grid_worker"),
    ("public_health", "公共卫生", "Public health", "民生", "normal", "community"),
    ("security", "治安", "Public security", "安全", "high", "grid_worker"),
    ("dispute", "矛盾纠纷", "Neighbour dispute", "民生", "normal", "party_chain"),
    ("needs_help", "困难求助", "A vulnerable person needs help", "民生", "high", "party_chain"),
    ("sanitation", "环境卫生", "Sanitation", "环境", "low", "property"),
    ("damaged_facility", "设施损坏", "Damaged facility", "环境", "normal", "property"),
    ("other", "其他", "Other", "其他", "normal", "grid_worker"),
]
# Never shown to the public (migration 0009 marks the same): who needs help, who quarrels, crime.
PRIVATE_CATEGORIES = frozenset({"needs_help", "dispute", "security"})

DEADLINES = [
    # severity, 中文, English, rank, minutes to accept, to be on site, to resolve
    ("urgent", "紧急", "urgent", 1, 15, 30, 240),
    ("high", "较急", "high", 2, 30, 120, 1440),
    ("normal", "一般", "normal", 3, 120, 1440, 4320),
    ("low", "较缓", "low", 4, 480, 4320, 10080),
]

STATES = [
    # code, 中文, English, terminal, step waited for
    ("submitted", "已上报", "Submitted", False, "accept"),
    ("assigned", "已分派", "Assigned", False, "accept"),
    ("transferred", "已转办", "Transferred", False, "accept"),
    ("accepted", "已受理", "Accepted", False, "on_site"),
    ("on_site", "已到场", "On site", False, "resolve"),
    ("resolved", "已办结", "Resolved", False, "feedback"),
    ("reopened", "重新打开", "Reopened", False, "accept"),
    ("closed", "已关闭", "Closed", True, None),
    ("rejected", "已退回", "Rejected", True, None),
    ("merged", "已合并", "Merged", True, None),
]

_WORK = "handler,staff"
TRANSITIONS = [
    # from, action, to, who, a note (reason) is required
    ("submitted", "assign", "assigned", "staff,system", False),
    ("submitted", "transfer", "transferred", _WORK, True),
    ("assigned", "transfer", "transferred", _WORK, True),
    ("transferred", "transfer", "transferred", _WORK, True),
    ("accepted", "transfer", "transferred", _WORK, True),
    ("reopened", "transfer", "transferred", _WORK, True),
    ("assigned", "accept", "accepted", _WORK, False),
    ("transferred", "accept", "accepted", _WORK, False),
    ("reopened", "accept", "accepted", _WORK, False),
    ("accepted", "check_in", "on_site", _WORK, False),
    ("on_site", "resolve", "resolved", _WORK, True),
    ("resolved", "feedback", "closed", "reporter,staff", False),
    ("resolved", "close", "closed", "staff,system", False),
    ("resolved", "reopen", "reopened", "reporter,staff", False),
    ("closed", "reopen", "reopened", "reporter,staff", False),
    ("submitted", "reject", "rejected", _WORK, True),
    ("assigned", "reject", "rejected", _WORK, True),
    ("transferred", "reject", "rejected", _WORK, True),
    ("submitted", "merge", "merged", _WORK, False),
    ("assigned", "merge", "merged", _WORK, False),
    ("transferred", "merge", "merged", _WORK, False),
    ("accepted", "merge", "merged", _WORK, False),
    ("on_site", "merge", "merged", _WORK, False),
    ("reopened", "merge", "merged", _WORK, False),
]

RULES = [
    # category, place level, handler kind, duty, priority, note
    (
        "needs_help",
        "household",
        "duty",
        "party_member",
        10,
        "困难求助先由联系户党员上门 / the household's party member visits first",
    ),
    (
        "needs_help",
        None,
        "duty",
        "party_group_leader",
        20,
        "无联系户党员时由楼栋党小组长 / else the building's party group leader",
    ),
    ("dispute", None, "duty", "party_group_leader", 20, "矛盾纠纷由楼栋党小组长调解 / the party group leader mediates"),
    (None, None, "duty", "grid_worker", 100, "默认：片区网格员 / default: the area's grid worker"),
]


def install_defaults(session: Session) -> int:
    """Insert the defaults that are missing (matched by code, severity, state, transition,
    and for rules by category, level and duty); returns how many rows were added."""
    now = datetime.now(UTC)
    added = []
    have = set(session.scalars(select(SeverityDeadline.severity)))
    added += [
        SeverityDeadline(
            severity=s,
            label_zh=zh,
            label_en=en,
            rank=r,
            accept_minutes=a,
            on_site_minutes=o,
            resolve_minutes=res,
            updated_at=now,
        )
        for s, zh, en, r, a, o, res in DEADLINES
        if s not in have
    ]
    have = set(session.scalars(select(EventCategory.code)))
    added += [
        EventCategory(
            code=c,
            name_zh=zh,
            name_en=en,
            group_name=g,
            default_severity=sev,
            handler_kind=hk,
            active=True,
            editable=True,
            private=c in PRIVATE_CATEGORIES,
            sort_order=(i + 1) * 10,
            created_at=now,
            updated_at=now,
        )
        for i, (c, zh, en, g, sev, hk) in enumerate(CATEGORIES)
        if c not in have
    ]
    have = set(session.scalars(select(ReportState.code)))
    added += [
        ReportState(code=c, label_zh=zh, label_en=en, terminal=t, step=step, sort_order=i + 1)
        for i, (c, zh, en, t, step) in enumerate(STATES)
        if c not in have
    ]
    session.add_all(added)
    session.flush()
    have_t = set(session.execute(select(ReportTransition.from_state, ReportTransition.action)))
    more: list = [
        ReportTransition(from_state=f, action=a, to_state=t, actors=who, requires_note=n)
        for f, a, t, who, n in TRANSITIONS
        if (f, a) not in have_t
    ]
    have_r = set(session.execute(select(RoutingRule.category_code, RoutingRule.level, RoutingRule.duty)))
    more += [
        RoutingRule(category_code=c, level=lv, handler_kind=hk, duty=d, priority=p, note=n, active=True, created_at=now)
        for c, lv, hk, d, p, n in RULES
        if (c, lv, d) not in have_r
    ]
    session.add_all(more)
    session.flush()
    return len(added) + len(more)
