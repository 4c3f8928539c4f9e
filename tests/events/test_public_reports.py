"""Nothing personal is public: what people without a login read of reports (Open311 ``requests``,
``requests/{id}``, ``tokens/{token}``), the consent asked at intake, private categories, reports
raised by other domains, and the text staff publish (scrubbed, audited, the original kept)."""

import re

import pytest
from sqlalchemy import select

from renxing.auth.models import AuditEntry
from renxing.auth.principal import SYSTEM
from renxing.care import plans, visits
from renxing.db import transaction, utcnow
from renxing.demo.build import build_demo
from renxing.errors import Forbidden, NotFound
from renxing.events import catalog, intake, publication
from renxing.events.models import EventCategory, Report
from renxing.events.schemas import CategoryPatch, ReportIn
from renxing.events.scrub import may_publish
from tests.kit.client import login, page_login

BASE = "/open311/v2"
NOW = utcnow()
# What a worried neighbour writes: a flat, a name, an illness, a phone number.
PERSONAL = "1栋1单元101室的王建国大爷长期卧床，有糖尿病，女儿电话13912345678，楼道里电动车在充电"
SECRETS = ("101", "王建国", "卧床", "糖尿病", "13912345678", "1单元", "电动车")


def reads(client, rid: int, token: str) -> str:
    """Everything an anonymous client can read about one report, in both formats."""
    parts = []
    for fmt in ("json", "xml"):
        parts.append(client.get(f"{BASE}/requests.{fmt}").text)
        parts.append(client.get(f"{BASE}/requests/{rid}.{fmt}").text)
        parts.append(client.get(f"{BASE}/tokens/{token}.{fmt}").text)
    return "\n".join(parts)


def listed(client) -> list[int]:
    r = client.get(f"{BASE}/requests.json")
    assert r.status_code == 200, r.text
    return [x["service_request_id"] for x in r.json()]


def is_hidden(client, ev, rid: int) -> bool:
    token = ev.report(rid).token
    return (
        rid not in listed(client)
        and client.get(f"{BASE}/requests/{rid}.json").status_code == 404
        and client.get(f"{BASE}/tokens/{token}.json").status_code == 404
    )


def moderate(ev, rid: int, text: str, username: str = "secretary") -> dict:
    with transaction(ev.engine) as s:
        return publication.set_public_text(s, ev.principal(username), rid, text)


# ---- the reporter's words never reach the public -------------------------------------------


def test_anonymous_reads_show_no_room_phone_or_health_of_a_consented_report(client, ev):
    rid = ev.submit(
        "resident1",
        household_id=ev.w.households["H1"],
        description=PERSONAL,
        address="1栋1单元101室",
        public_consent=True,
        now=NOW,
    )
    on_map = ev.submit("resident1", lat=32.0601, long=118.7853, description=PERSONAL, public_consent=True, now=NOW)
    for report_id in (rid, on_map):
        report = ev.report(report_id)
        assert report.public_consent and report.description == PERSONAL
        # The report's own id may be 101: it is no room number, so it is taken out before looking.
        text = re.sub(rf"(?<!\d){report_id}(?![\d室])", "#", reads(client, report_id, report.token))
        for secret in SECRETS:
            assert secret not in text, secret
        [item] = client.get(f"{BASE}/requests/{report_id}.json").json()
        # Category, state, times and the building: nothing more.
        assert item["description"] is None and item["service_code"] == "fire_hazard" and item["status"] == "open"
        assert item["requested_datetime"] and item["expected_datetime"]
        assert item["address"] == "1栋，一片区，一苑，阳光社区，测试街道" and item["address_id"] == "B1"
        assert (item["lat"], item["long"]) == (32.06, 118.785)  # the building's point, not the flat's nor the tap
        assert "32.0601" not in text and "118.7853" not in text
    assert set(listed(client)) == {rid, on_map}


def test_without_consent_a_report_is_not_public_and_consent_is_asked_everywhere(client, ev):
    quiet = ev.submit("resident1", description="楼道灯坏了", now=NOW)
    phoned = ev.submit("secretary", channel="phone", reporter_name="来电人", description="楼道灯坏了", now=NOW)
    patrol = ev.submit("gridworker1", channel="patrol", description="楼道灯坏了", now=NOW)
    for rid in (quiet, phoned, patrol):
        assert ev.report(rid).public_consent is False  # the default of every channel
        assert is_hidden(client, ev, rid)
    # The JSON API takes the consent like any field and tells it back.
    headers = login(client, "resident1")
    body = {"category": "sanitation", "description": "垃圾桶满了", "unit_id": ev.w.units["B1"], "public_consent": True}
    r = client.post("/api/v1/reports", json=body, headers=headers)
    assert r.status_code == 201 and r.json()["public_consent"] is True
    assert client.get(f"/api/v1/reports/{r.json()['id']}", headers=headers).json()["public_consent"] is True
    assert listed(client) == [r.json()["id"]]


def test_the_resident_page_asks_for_consent_and_staff_see_and_set_what_is_public(client, ev):
    csrf = page_login(client, "resident1")
    form = client.get("/report/new").text
    assert 'name="public_consent"' in form and "愿意公开" in form
    assert 'name="public_consent" checked' not in form  # never ticked for the resident
    data = {
        "csrf_token": csrf,
        "mode": "resident",
        "category": "sanitation",
        "description": PERSONAL,
        "place": "building",
        "unit_id": str(ev.w.units["B1"]),
        "public_consent": "on",
    }
    r = client.post("/report/new", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    rid = int(r.headers["location"].split("/")[2].split("?")[0])
    assert ev.report(rid).public_consent is True
    mine = client.get(f"/reports/{rid}").text
    assert "public-text" not in mine  # the moderation form is for staff

    csrf = page_login(client, "secretary")
    page = client.get(f"/reports/{rid}").text
    assert f'action="/reports/{rid}/public-text"' in page and "公众可见" in page
    r = client.post(
        f"/reports/{rid}/public-text",
        data={"csrf_token": csrf, "text": "1栋门口垃圾桶满了，王建国大爷反映，电话13912345678"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=public#public")
    page = client.get(r.headers["location"]).text
    assert "1栋门口垃圾桶满了，[姓名]大爷反映，电话[电话]" in page
    [item] = client.get(f"{BASE}/requests/{rid}.json").json()
    assert item["description"] == "1栋门口垃圾桶满了，[姓名]大爷反映，电话[电话]"
    assert client.post(f"/reports/{rid}/public-text", data={"text": "x"}).status_code == 403  # no CSRF token
    too_long = client.post(f"/reports/{rid}/public-text", data={"csrf_token": csrf, "text": "长" * 2001})
    assert too_long.status_code == 422 and "公开内容过长" in too_long.text

    page_login(client, "gridworker1")  # handles it, but does not publish
    assert "public-text" not in client.get(f"/reports/{rid}").text


# ---- the published text ---------------------------------------------------------------------


def test_moderated_text_is_shown_scrubbed_the_original_kept_and_the_change_audited(client, ev):
    rid = ev.submit("resident1", description=PERSONAL, public_consent=True, now=NOW)
    text = "1栋楼道有电动车充电，1单元101室王建国家门口；李梅也反映过，联系 139-1234-5678"
    answer = moderate(ev, rid, text)
    published = "1栋楼道有电动车充电，[房号][姓名]家门口；[姓名]也反映过，联系 [电话]"
    assert answer["public"] is True and answer["text"] == text and answer["published"] == published
    [item] = client.get(f"{BASE}/requests/{rid}.json").json()
    assert item["description"] == published  # 王建国 and 李梅 live in 1栋: known names go without a cue
    root = client.get(f"{BASE}/requests/{rid}.xml").text
    assert "[姓名]家门口" in root and "王建国" not in root
    assert ev.report(rid).description == PERSONAL  # the reporter's words stay
    with transaction(ev.engine) as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "moderate", AuditEntry.entity_id == rid))
        assert entry.actor_name == "secretary" and entry.entity == "report"
        assert entry.before == {"public_text": None} and entry.after == {"public_text": published}

    # Through the API too; an empty text withdraws it (audited), and the public reads none again.
    headers = login(client, "secretary")
    r = client.put(f"/api/v1/reports/{rid}/public-text", json={"text": ""}, headers=headers)
    assert r.status_code == 200 and r.json()["published"] is None
    assert client.get(f"{BASE}/requests/{rid}.json").json()[0]["description"] is None
    with transaction(ev.engine) as s:
        actions = s.scalars(select(AuditEntry.summary).where(AuditEntry.action == "moderate")).all()
        assert len(actions) == 2
    view = client.get(f"/api/v1/reports/{rid}/public", headers=headers).json()
    assert view["public"] is True and view["reasons"] == [] and view["may_moderate"] is True


def test_only_staff_of_the_place_moderate(ev):
    rid = ev.submit("resident1", description="路灯坏了", public_consent=True, now=NOW)
    for username in ("resident1", "gridworker1", "leader1"):
        try:
            moderate(ev, rid, "路灯坏了", username)
        except Forbidden:
            continue
        raise AssertionError(f"{username} moderated")
    with pytest.raises(NotFound):  # another community: the report is unknown there
        moderate(ev, rid, "路灯坏了", "staff2")
    assert moderate(ev, rid, "路灯坏了", "street")["published"] == "路灯坏了"


# ---- private categories and other domains ---------------------------------------------------


def test_private_categories_are_never_public_even_with_consent_and_a_published_text(client, ev):
    filed = {
        code: ev.submit("resident1", category=code, description="家里老人需要帮助", public_consent=True, now=NOW)
        for code in ("needs_help", "dispute", "security", "sanitation")
    }
    for rid in filed.values():
        moderate(ev, rid, "需要帮助")
    for code in ("needs_help", "dispute", "security"):
        assert is_hidden(client, ev, filed[code]), code
    assert listed(client) == [filed["sanitation"]]
    # Staff change the setting per category (the street's): private now, public again.
    with transaction(ev.engine) as s:
        catalog.update_category(s, ev.principal("street"), "sanitation", CategoryPatch(private=True))
    assert is_hidden(client, ev, filed["sanitation"])
    with transaction(ev.engine) as s:
        catalog.update_category(s, SYSTEM, "sanitation", CategoryPatch(private=False))
        assert s.scalar(select(EventCategory.private).where(EventCategory.code == "needs_help")) is True
    assert listed(client) == [filed["sanitation"]]
    assert client.get("/api/v1/categories").json()[0]["private"] is False


def test_reports_raised_by_a_care_visit_or_a_sensor_are_never_public(client, ev):
    with transaction(ev.engine) as s:
        secretary = ev.principal("secretary")
        plan = plans.create_plan(s, secretary, ev.w.residents["wang"])
        visit = visits.record_visit(
            s,
            secretary,
            plan.id,
            found="problem",
            problem_category="health",
            note="王建国大爷氧气瓶快用完了，住101",
            raise_report=True,
        )
        from_visit = visit.report_id
        sensor = intake.submit_internal(
            s,
            category="waterlogging",
            description="水位传感器 W-12 报警",
            source="水位传感器",
            unit_id=ev.w.units["B1"],
        ).id
        # Even a caller claiming consent for an internal report does not make it public.
        claimed = intake.submit_report(
            s,
            SYSTEM,
            ReportIn(category="sanitation", description="巡检", unit_id=ev.w.units["B1"], public_consent=True),
            channel="internal",
        ).id
    with transaction(ev.engine) as s:
        catalog.update_category(s, SYSTEM, "needs_help", CategoryPatch(private=False))  # not even then
    for rid in (from_visit, sensor, claimed):
        moderate(ev, rid, "已处理")
        assert ev.report(rid).public_consent is False
        assert is_hidden(client, ev, rid), rid
    with transaction(ev.engine) as s:
        view = publication.publicity(s, ev.principal("secretary"), from_visit)
    assert view["public"] is False and any("其他业务" in why for why in view["reasons"])


def test_the_sql_rule_and_the_pure_rule_agree(ev):
    users = {"resident_app": "resident1", "phone": "secretary", "patrol": "gridworker1", "api": None}
    users |= {"open311": None, "internal": None}
    made = []
    for channel, username in users.items():
        for category in ("fire_hazard", "dispute"):
            for consent in (True, False):
                extra = {"reporter_name": "来电人"} if channel in ("phone", "internal") else {}
                rid = ev.submit(username, channel=channel, category=category, public_consent=consent, now=NOW, **extra)
                made.append(rid)
    with transaction(ev.engine) as s:
        private = set(s.scalars(select(EventCategory.code).where(EventCategory.private.is_(True))))
        by_sql = set(s.scalars(select(Report.id).where(publication.public_clause())))
        reports = s.scalars(select(Report).where(Report.id.in_(made))).all()
        by_rule = {
            r.id
            for r in reports
            if may_publish(consent=r.public_consent, channel=r.channel, category_private=r.category_code in private)
        }
        by_view = {v["id"] for v in publication.public_views(s, list(reports))}
    assert by_sql == by_rule == by_view and len(by_rule) == 5  # five channels, consent, fire_hazard


def test_the_demo_has_a_public_feed_without_personal_details(engine, client):
    build_demo(engine, scale=0.01)
    r = client.get(f"{BASE}/requests.json")
    assert r.status_code == 200
    items = r.json()
    assert items and any(x["description"] for x in items) and any(x["description"] is None for x in items)
    with transaction(engine) as s:
        shown = s.scalars(select(Report).where(Report.id.in_([x["service_request_id"] for x in items]))).all()
        private = set(s.scalars(select(EventCategory.code).where(EventCategory.private.is_(True))))
    assert all(rep.public_consent and rep.channel != "internal" and rep.category_code not in private for rep in shown)
    names = {rep.reporter_name for rep in shown if rep.reporter_name}
    assert not any(name in r.text for name in names)
    assert not re.search(r"1[3-9]\d{9}", r.text)


def test_a_public_copy_never_names_the_reporter_even_if_they_let_the_app_show_it(client, ev):
    rid = ev.submit(
        "resident1",
        household_id=ev.w.households["H1"],
        description="楼道灯坏了",
        public_consent=True,
        show_name_publicly=True,
        now=NOW,
    )
    staff = login(client, "secretary")
    assert (
        client.put(f"/api/v1/reports/{rid}/public-text", json={"text": "楼道灯坏了"}, headers=staff).status_code == 200
    )
    with transaction(ev.engine) as s:
        view = publication.public_view(s, s.get(Report, rid))
    assert view is not None and view["description"] == "楼道灯坏了"
    assert "reporter" not in view
    assert "王小明" not in client.get(f"{BASE}/requests/{rid}.json").text
