"""The closed loop's pages through the real login form: filing a report, the report page and its
action forms, feedback, the inbox and notifications, the overview with its export, the dashboard."""

import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from renxing.auth.models import AuditEntry
from renxing.db import transaction
from renxing.events.models import Report, ReportPhoto
from renxing.notify.models import Notification
from tests.kit.client import CJK, page_login
from tests.kit.events_world import png

REPORT_URL = re.compile(r"/reports/(\d+)\?filed=1")


def file_report(client, csrf: str, **fields) -> tuple[int, str]:
    """Post the report form; returns the new report's id and the page it leads to."""
    photos = fields.pop("photos", [])
    data = {"csrf_token": csrf, "mode": "resident", "category": "fire_hazard", "description": "楼道堆放纸箱", **fields}
    files = [("photos", (f"p{i}.png", raw, "image/png")) for i, raw in enumerate(photos)]
    r = client.post("/report/new", data=data, files=files or None, follow_redirects=False)
    assert r.status_code == 303, r.text
    rid = int(REPORT_URL.search(r.headers["location"]).group(1))
    return rid, client.get(r.headers["location"]).text


def act(client, csrf: str, rid: int, action: str, files=None, **fields):
    return client.post(
        f"/reports/{rid}/{action}", data={"csrf_token": csrf, **fields}, files=files, follow_redirects=False
    )


def count_reports(ev) -> int:
    with transaction(ev.engine) as s:
        return s.scalar(select(func.count(Report.id))) or 0


# ---- who may open what ---------------------------------------------------------------------


def test_each_page_renders_for_the_right_roles_and_refuses_others(client, ev):
    rid = ev.submit("resident1")
    page_login(client, "resident1")
    form = client.get("/report/new")
    assert form.status_code == 200 and "我要上报" in form.text
    assert 'name="photos"' in form.text and 'accept="image/*"' in form.text and "capture" in form.text
    assert "公开显示我的姓名" in form.text and "reporter_name" not in form.text
    assert len(re.findall(r'name="category" value="', form.text)) == 13
    # Their own building is picked already.
    assert re.search(rf'<option value="{ev.w.units["B1"]}" selected>', form.text)
    for url in ("/reports/mine", "/inbox", f"/reports/{rid}"):
        assert client.get(url).status_code == 200, url
    for url in ("/reports", "/dashboard", "/reports/export.xlsx"):
        r = client.get(url)
        assert r.status_code == 403 and "无权访问" in r.text, url
    inbox = client.get("/inbox").text
    assert "事件总览" not in inbox  # no menu entry either
    assert "<h1>消息</h1>" in inbox and "待办事件" not in inbox  # a resident handles nothing

    page_login(client, "gridworker1")
    form = client.get("/report/new").text
    assert "巡查上报" in form and 'name="severity"' in form and 'value="patrol"' in form
    assert "代录电话上报" in form  # the other tab
    for url in ("/reports", "/dashboard", f"/reports/{rid}", "/inbox", "/reports/mine"):
        assert client.get(url).status_code == 200, url

    page_login(client, "secretary")
    form = client.get("/report/new").text
    assert "来电人姓名" in form and 'value="phone"' in form
    assert client.get("/dashboard?screen=big").status_code == 200

    page_login(client, "staff2")  # another community: the report is unknown there
    assert client.get(f"/reports/{rid}").status_code == 404
    assert f"#{rid}" not in client.get("/reports").text

    client.cookies.clear()
    for url in ("/report/new", "/reports/mine", "/inbox", "/reports", "/dashboard", f"/reports/{rid}"):
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), url


# ---- filing ---------------------------------------------------------------------------------


def test_a_resident_files_a_report_with_a_photo_and_sees_it_under_my_reports(client, ev):
    csrf = page_login(client, "resident1")
    rid, page = file_report(
        client, csrf, place="building", unit_id=str(ev.w.units["B1"]), photos=[png()], show_name_publicly="on"
    )
    report = ev.report(rid)
    assert (report.channel, report.state, report.handler_user_id) == ("resident_app", "assigned", ev.uid("gridworker1"))
    assert report.show_name_publicly is True and report.unit_id == ev.w.units["B1"]
    assert report.token in page and "已提交" in page
    assert f"/api/v1/reports/{rid}/photos/" in page
    assert "分派说明" not in page  # the routing explanation is for staff
    photo_url = re.search(r'src="(/api/v1/reports/\d+/photos/\d+)"', page).group(1)
    assert client.get(photo_url).headers["content-type"] == "image/png"
    mine = client.get("/reports/mine").text
    assert f'data-report="{rid}"' in mine and "楼道堆放纸箱" in mine and "已分派" in mine
    # The handler sees why it came to them.
    page_login(client, "gridworker1")
    page = client.get(f"/reports/{rid}").text
    assert "分派说明" in page and "网格员" in page and "13912345678" in page


def test_home_and_map_point_places(client, ev):
    csrf = page_login(client, "resident1")
    rid, _ = file_report(client, csrf, place="household", category="needs_help", description="老人摔倒需要帮助")
    assert ev.report(rid).household_id == ev.w.households["H1"]
    rid, _ = file_report(client, csrf, place="point", lat="32.0601", long="118.7851")
    r = ev.report(rid)
    assert (r.lat, r.lon, r.unit_id) == (32.0601, 118.7851, ev.w.units["B1"])


def test_bad_input_comes_back_with_field_messages_and_stores_nothing(client, ev):
    csrf = page_login(client, "resident1")
    r = client.post(
        "/report/new",
        data={"csrf_token": csrf, "mode": "resident", "category": "", "description": " ", "place": "point"},
    )
    assert r.status_code == 422
    assert "请选择类别" in r.text and "请描述问题" in r.text and "请选择楼栋或在地图上选点" in r.text
    assert 'class="field-error"' in r.text
    r = client.post(
        "/report/new",
        data={
            "csrf_token": csrf,
            "category": "fire_hazard",
            "description": "楼道里有电动车充电",
            "place": "point",
            "lat": "31.0",
            "long": "121.0",
        },
        files=[("photos", ("x.png", b"not an image at all", "image/png"))],
    )
    assert r.status_code == 422
    assert "该位置不在任何社区范围内" in r.text and "不是有效的图片" in r.text and "请重新选择照片" in r.text
    assert "楼道里有电动车充电" in r.text  # what was typed is kept
    seven = [("photos", (f"{i}.png", png(), "image/png")) for i in range(7)]
    r = client.post(
        "/report/new",
        data={"csrf_token": csrf, "category": "fire_hazard", "description": "x", "place": "household"},
        files=seven,
    )
    assert r.status_code == 422 and "最多 6 张照片" in r.text
    assert client.post("/report/new", data={"category": "fire_hazard", "description": "x"}).status_code == 403
    assert count_reports(ev) == 0


def test_patrol_and_phone_call_variants(client, ev):
    csrf = page_login(client, "gridworker1")
    rid, page = file_report(
        client, csrf, mode="patrol", place="point", lat="32.0601", long="118.7851", severity="urgent"
    )
    assert (ev.report(rid).channel, ev.report(rid).severity) == ("patrol", "urgent")
    assert "巡查上报" in page

    csrf = page_login(client, "secretary")
    data = {"mode": "phone", "place": "building", "unit_id": str(ev.w.units["B2"]), "category": "waterlogging"}
    r = client.post("/report/new", data={"csrf_token": csrf, "description": "地下车库进水", **data})
    assert r.status_code == 422 and "电话登记须填来电人" in r.text
    rid, page = file_report(
        client, csrf, description="地下车库进水", reporter_name="刘阿姨", reporter_phone="13611112222", **data
    )
    report = ev.report(rid)
    assert (report.channel, report.reporter_name, report.reporter_phone) == ("phone", "刘阿姨", "13611112222")
    assert report.recorded_by_user_id == ev.uid("secretary") and "刘阿姨" in page


# ---- working a report -----------------------------------------------------------------------


def test_the_handler_accepts_checks_in_and_resolves_and_the_resident_rates_it(client, ev):
    csrf = page_login(client, "resident1")
    rid, _ = file_report(client, csrf, place="building", unit_id=str(ev.w.units["B1"]))

    csrf = page_login(client, "gridworker1")
    inbox = client.get("/inbox").text
    assert f'data-report="{rid}"' in inbox and "新事件待受理" in inbox
    page = client.get(f"/reports/{rid}").text
    for action in ("accept", "transfer", "reject", "merge"):
        assert f'action="/reports/{rid}/{action}"' in page, action
    assert f'action="/reports/{rid}/resolve"' not in page

    assert act(client, csrf, rid, "accept", note="马上到").status_code == 303
    # A check-in needs the position; the page says so and nothing moves.
    r = act(client, csrf, rid, "check_in")
    assert r.status_code == 422 and "到场须有位置" in r.text
    assert ev.report(rid).state == "accepted"
    r = act(
        client,
        csrf,
        rid,
        "check_in",
        files=[("photo", ("scene.png", png((0, 120, 0)), "image/png"))],
        lat="32.06012",
        long="118.78515",
        note="已到现场",
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"/reports/{rid}?done=check_in")
    r = act(client, csrf, rid, "resolve")
    assert r.status_code == 422 and "必填" in r.text  # resolving needs a note
    assert act(client, csrf, rid, "resolve", note="纸箱已清走").status_code == 303
    page = client.get(f"/reports/{rid}?done=resolve").text
    assert "已办结" in page and "到场照片" in page and "32.06012" in page

    csrf = page_login(client, "resident1")
    page = client.get(f"/reports/{rid}").text
    assert 'id="feedback"' in page and 'name="rating"' in page and "问题解决了吗" in page
    assert "待评价" in client.get("/reports/mine").text
    r = act(client, csrf, rid, "feedback")
    assert r.status_code == 422 and "请说明是否解决" in r.text
    r = act(client, csrf, rid, "feedback", solved="yes", rating="4", comment="处理很快")
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "谢谢您的评价" in page and "★★★★☆" in page and "处理很快" in page
    report = ev.report(rid)
    assert (report.state, report.close_reason, report.feedback_rating) == ("closed", "feedback", 4)
    timeline = re.findall(r'<li class="tl tl-(\w+)">', page)
    assert timeline == ["submit", "route", "accept", "check_in", "resolve", "feedback"]


def test_refused_actions_show_why_and_change_nothing(client, ev):
    rid = ev.submit("resident1")
    csrf = page_login(client, "resident1")
    r = act(client, csrf, rid, "accept")
    assert r.status_code == 403 and "您不能对此事件执行" in r.text
    csrf = page_login(client, "gridworker1")
    r = act(client, csrf, rid, "resolve", note="x")
    assert r.status_code == 409 and "不能办结" in r.text and 'role="alert"' in r.text
    r = act(client, csrf, rid, "reject")
    assert r.status_code == 422 and "请填写说明" in r.text
    assert act(client, csrf, rid, "fly").status_code == 404
    assert client.post(f"/reports/{rid}/accept", data={"csrf_token": "wrong"}).status_code == 403
    assert ev.report(rid).state == "assigned" and len(ev.events(rid)) == 2


def test_transfer_merge_and_reject_through_the_forms(client, ev):
    first = ev.submit("resident1", lat=32.0601, long=118.7851)
    second = ev.submit("resident1", lat=32.06012, long=118.78512)
    third = ev.submit("resident1")
    csrf = page_login(client, "gridworker1")
    page = client.get(f"/reports/{second}").text
    assert f'name="into_report_id" value="{first}"' in page  # offered as a duplicate
    assert f'<option value="{ev.uid("leader1")}">' in page  # a transfer target
    assert act(client, csrf, second, "merge", into_report_id=str(first)).status_code == 303
    assert (ev.report(second).state, ev.report(second).merged_into_id) == ("merged", first)
    r = act(client, csrf, first, "transfer", to_user_id=str(ev.uid("leader1")), reason="楼栋长就近处理")
    assert r.status_code == 303 and ev.report(first).handler_user_id == ev.uid("leader1")
    assert act(client, csrf, third, "reject", reason="非本平台受理范围").status_code == 303
    csrf = page_login(client, "resident1")
    page = client.get(f"/reports/{third}").text
    assert "已退回" in page and "非本平台受理范围" in page
    assert f"/reports/{first}" in client.get(f"/reports/{second}").text


# ---- inbox and notifications ----------------------------------------------------------------


def test_inbox_counts_overdue_first_and_marks_messages_read(client, ev):
    late = ev.submit("resident1")  # filed at T0 (2025): long overdue by now
    csrf = page_login(client, "resident1")
    fresh, _ = file_report(client, csrf, place="building", unit_id=str(ev.w.units["B1"]))
    csrf = page_login(client, "gridworker1")
    page = client.get("/inbox").text
    assert page.index(f'data-report="{late}"') < page.index(f'data-report="{fresh}"')  # by deadline
    assert re.search(r'data-count="overdue"><span class="kpi-label">[^<]+</span><b class="kpi-value">1<', page)
    assert "rcard is-overdue" in page
    act(client, csrf, fresh, "accept")

    csrf = page_login(client, "resident1")
    page = client.get("/inbox").text
    assert "事件已受理" in page and 'class="msg unread"' in page
    nid = int(re.search(r'action="/inbox/read/(\d+)"', page).group(1))
    r = client.post(
        f"/inbox/read/{nid}", data={"csrf_token": csrf, "next": f"/reports/{fresh}"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/reports/{fresh}"
    r = client.post(f"/inbox/read/{nid}", data={"csrf_token": csrf, "next": "//evil.example"}, follow_redirects=False)
    assert r.headers["location"] == "/inbox#messages"
    assert client.post("/inbox/read", data={"csrf_token": csrf}).status_code == 200
    with transaction(ev.engine) as s:
        unread = s.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == ev.uid("resident1"), Notification.read_at.is_(None)
            )
        )
    assert unread == 0
    assert client.get("/api/v1/notifications?unread=true&size=1").json()["unread"] == 0  # the bell's source


# ---- overview, export, dashboard -----------------------------------------------------------


def close_one(ev, rid: int) -> None:
    ev.act("gridworker1", rid, "accept")
    ev.act("gridworker1", rid, "check_in", lat=32.06, long=118.785)
    ev.act("gridworker1", rid, "resolve", note="已处理")
    ev.act("resident1", rid, "feedback", solved=True, rating=5)


def test_the_overview_filters_and_exports_to_excel(client, ev):
    done = ev.submit("resident1", category="waterlogging", description="雨后积水")
    close_one(ev, done)
    ev.submit("resident1", category="fire_hazard", description="电动车楼道充电")
    ev.submit("resident2", unit_id=ev.w.units["B2"], description="二片区的问题")
    page_login(client, "secretary")
    page = client.get("/reports").text
    assert page.count('data-report="') == 3 and "导出 Excel" in page
    page = client.get("/reports?state=open").text
    assert page.count('data-report="') == 2 and f'data-report="{done}"' not in page
    page = client.get(f"/reports?category=waterlogging&unit_id={ev.w.units['A1']}").text
    assert page.count('data-report="') == 1 and "雨后积水" in page
    page = client.get(f"/reports?handler={ev.uid('gridworker1')}&overdue=1").text
    assert page.count('data-report="') == 1 and "电动车楼道充电" in page
    assert client.get("/reports?since=2025-03-03&until=2025-03-03").text.count('data-report="') == 3
    assert client.get("/reports?since=2099-01-01").text.count('data-report="') == 0
    r = client.get("/reports?since=03/03/2025")
    assert r.status_code == 422 and "日期格式" in r.text

    page_login(client, "gridworker1")  # only area A1
    assert client.get("/reports").text.count('data-report="') == 2
    page_login(client, "secretary")
    r = client.get("/reports/export.xlsx?state=open")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "公开编号", "类别", "状态")
    assert len(rows) == 3 and {row[2] for row in rows[1:]} == {"消防隐患"}
    assert any(row[10] == "13912345678" for row in rows[1:])  # community staff call back
    with transaction(ev.engine) as s:
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "export")) == 1
    en = load_workbook(io.BytesIO(client.get("/reports/export.xlsx?lang=en").content)).active
    header = next(en.iter_rows(values_only=True))
    assert header[:3] == ("No.", "Public reference", "Category") and en.max_row == 4


def test_the_dashboard_shows_counts_times_and_the_closed_loop(client, ev):
    rid = ev.submit("resident1")
    close_one(ev, rid)
    ev.submit("resident1", category="waterlogging")
    page_login(client, "secretary")
    page = client.get("/dashboard").text
    assert re.search(r'data-kpi="count">.*?<b class="kpi-value">2</b>', page, re.S)
    assert re.search(r'data-kpi="closed_loop_rate">.*?<b class="kpi-value">50%</b>', page, re.S)
    assert re.search(r'data-kpi="satisfaction">.*?<b class="kpi-value">5.0', page, re.S)
    for chart in ("chart-unit", "chart-category", "chart-handler", "chart-month", "hotmap"):
        assert f'id="{chart}"' in page
    assert "/static/vendor/echarts.min.js" in page and "/static/vendor/leaflet.js" in page
    assert json.dumps("消防隐患") in page and json.dumps("积水内涝") in page  # chart labels
    big = client.get("/dashboard?screen=big&level=area").text
    assert "dash-big" in big and json.dumps("一片区") in big
    assert client.get("/dashboard?since=yesterday").status_code == 422
    assert "1 / 2" in page  # closed with feedback ÷ all


def test_pages_speak_english(client, ev):
    rid = ev.submit("resident1")
    page_login(client, "gridworker1")
    # Names of places and people, and labels the services store in Chinese, are data.
    data = {"测试街道", "阳光社区", "一苑", "一片区", "二片区", "1栋", "2栋", "3栋", "楼道堆放杂物", "王小明"}
    data |= {"孙网格", "网格员", "居民", "系统", "韧", "中文", "栋", "单元", "室"}
    for url in ("/report/new", "/reports", "/dashboard", "/inbox", "/reports/mine", f"/reports/{rid}"):
        text = client.get(f"{url}{'&' if '?' in url else '?'}lang=en").text
        body = re.sub(r"<script.*?</script>", "", text, flags=re.S)
        leftovers = set(CJK.findall(body)) - data
        assert not leftovers, f"{url}: {sorted(leftovers)}"


@pytest.mark.parametrize("path", ["/report/new", "/reports/mine", "/inbox"])
def test_phone_pages_have_the_viewport_and_the_menu(client, ev, path):
    page_login(client, "resident1")
    text = client.get(path).text
    assert 'name="viewport"' in text and "/static/events.css" in text and 'href="/inbox' in text


def test_photo_counts(client, ev):
    csrf = page_login(client, "resident1")
    rid, _ = file_report(client, csrf, place="household", photos=[png(), png((0, 0, 200))])
    with transaction(ev.engine) as s:
        kinds = list(s.scalars(select(ReportPhoto.kind).where(ReportPhoto.report_id == rid)))
    assert kinds == ["report", "report"]
