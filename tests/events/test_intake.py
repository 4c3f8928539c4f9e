"""Intake: validation, placing by point-in-polygon, routing with rules and fallback, photos."""

import io

import pytest
from PIL import Image
from sqlalchemy import update

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.errors import Forbidden, Invalid
from renxing.events import catalog, intake
from renxing.events.models import Report, ReportEvent, ReportPhoto, RoutingRule
from renxing.events.schemas import ReportIn, RuleIn
from renxing.grid.models import GridUnit, Responsibility
from tests.kit.client import login
from tests.kit.events_world import T0

GPS_IFD = 0x8825


def jpeg_with_gps(size=(40, 30)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    exif[GPS_IFD] = {1: "N", 2: (32.0, 3.0, 36.0), 3: "E", 4: (118.0, 47.0, 6.0)}
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_a_building_report_goes_to_the_areas_grid_worker_and_says_why(ev):
    rid = ev.submit("resident1", unit_id=ev.w.units["B1"])
    r = ev.report(rid)
    assert r.state == "assigned"
    assert r.handler_user_id == ev.uid("gridworker1")
    assert "网格员" in r.handler_label
    assert r.routing["rule_id"] is not None and any("规则" in step for step in r.routing["steps"])
    assert r.due_accept == T0.replace(minute=30)  # fire hazard: high, 30 minutes to accept
    assert [e.action for e in ev.events(rid)] == ["submit", "route"]
    assert [n.report_id for n in ev.inbox("gridworker1")] == [rid]
    assert r.reporter_user_id == ev.uid("resident1") and r.reporter_phone == "13912345678"


def test_a_point_in_a_building_outline_finds_the_building(ev):
    rid = ev.submit("resident1", lat=32.0601, long=118.7851)
    r = ev.report(rid)
    assert (r.unit_id, r.place_source) == (ev.w.units["B1"], "polygon")
    assert r.handler_user_id == ev.uid("gridworker1")


def test_a_point_in_an_area_without_grid_worker_falls_back_up_the_chain(ev):
    # A2 has no grid worker and no committee member: the compound's branch secretary takes it.
    rid = ev.submit("resident1", lat=32.052, long=118.797)
    r = ev.report(rid)
    assert (r.unit_id, r.place_source) == (ev.w.units["A2"], "polygon")
    assert r.handler_user_id == ev.uid("branchsec1")
    steps = " ".join(r.routing["steps"])
    assert "网格员空缺" in steps and "兜底" in steps


def test_without_outlines_the_nearest_building_within_100_m(ev):
    with ev.engine.begin() as conn:
        conn.execute(update(GridUnit).values(geometry=None))
    rid = ev.submit("resident1", lat=32.0604, long=118.7853)  # about 50 m from B1's point
    assert (ev.report(rid).unit_id, ev.report(rid).place_source) == (ev.w.units["B1"], "nearest")
    with pytest.raises(Invalid) as err:
        ev.submit("resident1", lat=32.0640, long=118.7850)  # 440 m away from every building
    assert {e.field for e in err.value.errors} == {"lat", "long"}


def test_a_point_outside_every_community_is_refused_and_nothing_is_stored(ev, client):
    before = (ev.count(Report), ev.count(ReportEvent))
    h = login(client, "resident1")
    # Inside the street, outside both communities.
    r = client.post(
        "/api/v1/reports",
        json={"category": "waterlogging", "description": "积水", "lat": 32.09, "long": 118.75},
        headers=h,
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"lat", "long"}
    r = client.post(
        "/api/v1/reports",
        json={"category": "waterlogging", "description": "积水", "lat": 95, "long": 118.75},
        headers=h,
    )
    assert r.status_code == 422
    assert (ev.count(Report), ev.count(ReportEvent)) == before


def test_unknown_category_names_the_field(ev, client):
    before = ev.count(Report)
    r = client.post(
        "/api/v1/reports",
        json={"category": "ufo", "description": "?", "unit_id": ev.w.units["B1"]},
        headers=login(client, "resident1"),
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["category"]
    assert ev.count(Report) == before


def test_a_resident_may_only_pick_their_own_household(ev):
    with pytest.raises(Invalid) as err:
        ev.submit("resident1", household_id=ev.w.households["H3"])
    assert err.value.errors[0].field == "household_id"
    rid = ev.submit("resident1", household_id=ev.w.households["H1"])
    assert ev.report(rid).household_id == ev.w.households["H1"]


def test_rule_priority_and_skipped_rules_are_explained(ev):
    with transaction(ev.engine) as s:
        partner = catalog.create_rule(
            s,
            ev.principal("secretary"),
            RuleIn(
                category_code="electrical",
                unit_id=ev.w.units["P1"],
                handler_kind="partner",
                org_name="阳光物业",
                user_id=ev.uid("partner1"),
                priority=50,
            ),
        ).id
        vacant = catalog.create_rule(
            s,
            ev.principal("secretary"),
            RuleIn(
                category_code="electrical",
                unit_id=ev.w.units["C1"],
                handler_kind="duty",
                duty="party_group_leader",
                level="area",
                priority=10,
            ),
        ).id
    rid = ev.submit("resident1", category="electrical", unit_id=ev.w.units["B1"])
    r = ev.report(rid)
    assert (r.handler_user_id, r.routing_rule_id, r.handler_kind) == (ev.uid("partner1"), partner, "partner")
    assert "阳光物业" in r.handler_label
    # The level-"area" rule does not match a building; a building-level one that does wins.
    with transaction(ev.engine) as s:
        s.execute(update(RoutingRule).where(RoutingRule.id == vacant).values(level="building"))
    r = ev.report(ev.submit("resident1", category="electrical", unit_id=ev.w.units["B1"]))
    assert (r.handler_user_id, r.routing_rule_id) == (ev.uid("leader1"), vacant)
    # Without an account the rule is skipped, and the explanation says so.
    with transaction(ev.engine) as s:
        s.execute(update(Responsibility).where(Responsibility.person_name == "钱组长").values(user_id=None))
    r = ev.report(ev.submit("resident1", category="electrical", unit_id=ev.w.units["B1"]))
    assert r.routing_rule_id == partner
    assert any(f"规则 #{vacant} 跳过" in step for step in r.routing["steps"])


def test_nobody_on_the_chain_falls_back_to_community_staff(ev):
    with transaction(ev.engine) as s:
        s.execute(update(Responsibility).values(user_id=None))
    r = ev.report(ev.submit("resident1"))
    # The staff member whose scope lies closest to the place: the compound's, then the community's.
    assert r.handler_user_id == ev.uid("branchsec1")
    assert "社区工作者" in r.routing["steps"][-1]


def test_needs_help_goes_to_the_households_party_member(ev):
    r = ev.report(ev.submit("resident1", category="needs_help", household_id=ev.w.households["H1"]))
    assert r.handler_user_id == ev.uid("member1")


def test_phone_calls_are_recorded_by_staff_with_the_callers_name(ev):
    with pytest.raises(Forbidden):
        ev.submit("resident1", channel="phone", reporter_name="张三")
    with pytest.raises(Invalid) as err:
        ev.submit("gridworker1", channel="phone", reporter_phone="12345")
    assert {e.field for e in err.value.errors} == {"reporter_name", "reporter_phone"}
    r = ev.report(ev.submit("gridworker1", channel="phone", reporter_name="张三", reporter_phone="138 0000 1111"))
    assert (r.channel, r.reporter_name, r.reporter_phone, r.reporter_user_id) == ("phone", "张三", "13800001111", None)
    assert r.recorded_by_user_id == ev.uid("gridworker1")


def test_internal_reports_use_the_same_pipeline(ev):
    with transaction(ev.engine) as s:
        r = intake.submit_internal(
            s,
            category="waterlogging",
            description="水位超过警戒线",
            source="水位传感器 W-12",
            unit_id=ev.w.units["A1"],
            severity="urgent",
            external_ref="W-12",
            now=T0,
        )
        rid = r.id
    r = ev.report(rid)
    assert (r.channel, r.severity, r.handler_user_id) == ("internal", "urgent", ev.uid("gridworker1"))
    assert r.reporter_name == "水位传感器 W-12"
    with transaction(ev.engine) as s, pytest.raises(Forbidden):
        intake.submit_report(
            s,
            ev.principal("gridworker1"),
            ReportIn(category="gas", description="x", unit_id=ev.w.units["A1"]),
            channel="internal",
        )


def test_residents_cannot_grade_severity_but_staff_can(ev):
    assert ev.report(ev.submit("resident1", severity="urgent")).severity == "high"
    assert ev.report(ev.submit("gridworker1", channel="patrol", severity="urgent")).severity == "urgent"


def test_photos_are_stored_without_exif_location(ev, media, client):
    h = login(client, "resident1")
    r = client.post(
        "/api/v1/reports",
        data={
            "category": "fire_hazard",
            "description": "电动车楼道充电",
            "unit_id": str(ev.w.units["B1"]),
            "show_name_publicly": "true",
        },
        files=[("photos", ("IMG_0001.JPG", jpeg_with_gps(), "image/jpeg"))],
        headers=h,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["show_name_publicly"] is True and len(body["photos"]) == 1
    with transaction(ev.engine) as s:
        photo = s.query(ReportPhoto).one()
    stored = (media / photo.path).read_bytes()
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG" and dict(img.getexif()) == {}
    assert b"PhoneMaker" not in stored
    got = client.get(body["photos"][0]["url"], headers=h)
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg" and got.content == stored
    assert client.get(body["photos"][0]["url"], headers=login(client, "staff2")).status_code == 404


def test_bad_uploads_are_refused_and_nothing_is_stored(ev, media, client):
    h = login(client, "resident1")
    form = {"category": "fire_hazard", "description": "x", "unit_id": str(ev.w.units["B1"])}
    before = (ev.count(Report), ev.count(ReportPhoto))
    big = b"\xff\xd8" + b"0" * (10 * 1024 * 1024 + 10)
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    cases = [
        [("photos", ("a.jpg", b"not an image at all", "image/jpeg"))],
        [("photos", ("a.jpg", gif.getvalue(), "image/jpeg"))],
        [("photos", ("big.jpg", big, "image/jpeg"))],
        [("photos", (f"{i}.jpg", jpeg_with_gps(), "image/jpeg")) for i in range(7)],
        [("photos", ("ok.jpg", jpeg_with_gps(), "image/jpeg")), ("photos", ("bad.png", b"\x89PNG...", "image/png"))],
    ]
    for files in cases:
        r = client.post("/api/v1/reports", data=form, files=files, headers=h)
        assert r.status_code == 422, r.text
        assert {e["field"] for e in r.json()["errors"]} == {"photos"}
    assert (ev.count(Report), ev.count(ReportPhoto)) == before
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_a_failed_transaction_removes_the_photo_files_it_wrote(ev, media):
    with pytest.raises(RuntimeError), transaction(ev.engine) as s:
        intake.submit_report(
            s,
            SYSTEM,
            ReportIn(category="gas", description="x", unit_id=ev.w.units["B1"], reporter_name="t"),
            channel="internal",
            photos=[jpeg_with_gps()],
        )
        assert any(p.is_file() for p in media.rglob("*"))
        raise RuntimeError("later step fails")
    assert not any(p.is_file() for p in media.rglob("*"))


def test_nearby_open_reports_of_the_same_category_are_offered_for_merging(ev, client):
    first = ev.submit("resident1", lat=32.0600, long=118.7850, now=None)
    ev.submit("resident1", lat=32.0600, long=118.7850, category="gas", now=None)  # another category
    far = ev.submit("resident1", lat=32.0610, long=118.7850, now=None)  # ~78 m north of the new one
    ev.submit("resident1", lat=32.0600, long=118.7850)  # the same place, but long ago
    h = login(client, "resident2")
    r = client.post(
        "/api/v1/reports",
        json={"category": "fire_hazard", "description": "同一处堆物", "lat": 32.0603, "long": 118.7850},
        headers=h,
    )
    assert r.status_code == 201
    # The resident sees only what they may: others' reports are not offered to them …
    assert r.json()["merge_candidates"] == []
    # … the grid worker sees both nearby ones, nearest first, and not the far one.
    rid = r.json()["id"]
    got = client.get(f"/api/v1/reports/{rid}/candidates", headers=login(client, "gridworker1")).json()
    assert [c["id"] for c in got] == [first]
    assert 30 < got[0]["distance_m"] < 40
    assert far not in [c["id"] for c in got]
