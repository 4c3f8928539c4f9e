"""Open311 GeoReport v2 under /open311/v2/: discovery, services and their definitions, posting
requests that go the way of every report (a photo as a multipart ``media`` file too), reading
public ones back without personal data, tokens, filters, jurisdictions, API keys, and the
spec's errors, which store nothing. (What is public: tests/events/test_public_reports.py.)"""

import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select, text, update
from typer.testing import CliRunner

from renxing import cli
from renxing.apikeys import service as apikeys
from renxing.apikeys.models import ApiKey
from renxing.auth import service as auth_service
from renxing.auth.models import AuditEntry, User
from renxing.auth.principal import SYSTEM
from renxing.config import get_settings
from renxing.db import transaction, utcnow
from renxing.demo.build import DEMO_API_KEY, build_demo
from renxing.errors import Conflict, Forbidden
from renxing.events import actions, intake, media, publication
from renxing.events.models import IdempotencyKey, Report, ReportPhoto
from renxing.events.schemas import ReportIn
from renxing.grid.models import Building, GridUnit, Responsibility
from renxing.notify.models import Notification

KEY = "test-app-key-0123456789"
OLD_KEY = "revoked-key-0123456789"
BASE = "/open311/v2"


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> str:
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


# C1 (= P1) west of C2 (= P2 = A3); buildings are small squares inside their areas.
OUTLINES = {
    "C1": box(118.78, 32.05, 118.80, 32.07),
    "P1": box(118.78, 32.05, 118.80, 32.07),
    "A1": box(118.78, 32.05, 118.79, 32.07),
    "A2": box(118.79, 32.05, 118.80, 32.07),
    "C2": box(118.80, 32.05, 118.82, 32.07),
    "P2": box(118.80, 32.05, 118.82, 32.07),
    "A3": box(118.80, 32.05, 118.82, 32.07),
    "B1": box(118.784, 32.059, 118.786, 32.061),
    "B2": box(118.794, 32.059, 118.796, 32.061),
    "B3": box(118.809, 32.059, 118.811, 32.061),
}


@pytest.fixture
def w(engine, world):
    """The small world with the area's grid worker and the secretary linked to their accounts,
    an active key for "test-app" and a revoked one."""
    with transaction(engine) as s:
        for person, username in [("孙网格", "gridworker1"), ("周书记", "secretary")]:
            s.execute(
                update(Responsibility).where(Responsibility.person_name == person).values(user_id=world.users[username])
            )
        apikeys.create_key(s, SYSTEM, "test-app", key=KEY)
        apikeys.create_key(s, SYSTEM, "old-app", key=OLD_KEY)
        apikeys.revoke_key(s, SYSTEM, "old-app")
    return world


def draw_outlines(engine, world) -> None:
    with engine.begin() as conn:
        for key, geometry in OUTLINES.items():
            conn.execute(
                text("UPDATE grid_units SET geometry = :g WHERE id = :id"), {"g": geometry, "id": world.units[key]}
            )


def count(engine, model) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def report(engine, report_id: int) -> Report:
    with transaction(engine) as s:
        return s.get(Report, report_id)


def post(client, fmt="json", **form):
    form.setdefault("api_key", KEY)
    form.setdefault("service_code", "fire_hazard")
    form.setdefault("attribute[injured]", "no")
    form = {k: v for k, v in form.items() if v is not None}
    return client.post(f"{BASE}/requests.{fmt}", data=form)


def xml(r) -> ET.Element:
    assert r.headers["content-type"].startswith("text/xml"), r.headers["content-type"]
    assert r.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(r.content)


def assert_error(r, status: int, fmt: str = "json", mentions: str | None = None) -> None:
    """The spec's error body: a list of {code, description}, with the HTTP status."""
    assert r.status_code == status, r.text
    if fmt == "json":
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert isinstance(body, list) and body
        assert all(set(e) == {"code", "description"} and e["code"] == status for e in body)
        text_ = " ".join(e["description"] for e in body)
    else:
        root = xml(r)
        assert root.tag == "errors"
        errs = root.findall("error")
        assert errs and all(e.findtext("code") == str(status) for e in errs)
        text_ = " ".join(e.findtext("description") or "" for e in errs)
    if mentions:
        assert mentions in text_, text_


# ---- discovery, services, definitions ------------------------------------------------------


def test_discovery_in_json_and_xml(client):
    r = client.get(f"{BASE}/discovery.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json; charset=utf-8"
    endpoint = r.json()["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]
    assert_error(client.get(f"{BASE}/discovery.html"), 404, "xml")


def test_the_service_list_has_every_active_category(client, engine):
    body = client.get(f"{BASE}/services.json").json()
    assert len(body) == 13
    fire = next(s for s in body if s["service_code"] == "fire_hazard")
    assert fire["service_name"] == "消防隐患" and "Fire hazard" in fire["description"]
    assert (fire["metadata"], fire["type"], fire["group"]) == (True, "realtime", "安全")
    assert "消防通道" in fire["keywords"] and "fire hazard" in fire["keywords"]

    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == 13
    gas = next(s for s in root.findall("service") if s.findtext("service_code") == "gas")
    assert (gas.findtext("service_name"), gas.findtext("metadata"), gas.findtext("type")) == (
        "燃气",
        "true",
        "realtime",
    )

    with engine.begin() as conn:
        conn.execute(text("UPDATE event_categories SET active = :f WHERE code = 'other'"), {"f": False})
    assert "other" not in {s["service_code"] for s in client.get(f"{BASE}/services.json").json()}


def test_service_definitions_in_json_and_xml(client):
    body = client.get(f"{BASE}/services/fire_hazard.json").json()
    assert body["service_code"] == "fire_hazard"
    attrs = {a["code"]: a for a in body["attributes"]}
    injured = attrs["injured"]
    assert (injured["datatype"], injured["required"], injured["variable"], injured["order"]) == (
        "singlevaluelist",
        True,
        True,
        1,
    )
    assert [v["key"] for v in injured["values"]] == ["yes", "no", "unknown"]
    assert "有人受伤" in injured["description"]
    english = client.get(f"{BASE}/services/fire_hazard.json", headers={"Accept-Language": "en"}).json()
    assert "anyone injured" in english["attributes"][0]["description"]
    assert [v["key"] for v in attrs["severity_hint"]["values"]] == ["urgent", "high", "normal", "low"]
    assert attrs["emergency"]["variable"] is False  # information only: call 119 first
    orders = [a["order"] for a in body["attributes"]]
    assert len(set(orders)) == len(orders)

    # Outside the safety group nobody has to say whether someone is hurt.
    sanitation = {a["code"]: a for a in client.get(f"{BASE}/services/sanitation.json").json()["attributes"]}
    assert sanitation["injured"]["required"] is False and "emergency" not in sanitation

    root = xml(client.get(f"{BASE}/services/needs_help.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "needs_help"
    who = next(a for a in root.findall("attributes/attribute") if a.findtext("code") == "who_needs_help")
    assert who.findtext("datatype") == "singlevaluelist" and who.findtext("required") == "false"
    assert "elderly" in [v.findtext("key") for v in who.findall("values/value")]

    assert_error(client.get(f"{BASE}/services/no_such_thing.json"), 404, "json", "no_such_thing")
    assert_error(client.get(f"{BASE}/services/no_such_thing.xml"), 404, "xml")
    assert_error(client.get(f"{BASE}/services/fire_hazard"), 404, "xml")


# ---- posting requests ----------------------------------------------------------------------


def test_a_request_by_address_goes_to_the_areas_grid_worker_and_can_be_read_back(client, engine, w):
    r = post(
        client,
        address_string="阳光社区 一苑 1栋 楼道",
        description="楼道里堆满纸箱，堵住了安全出口",
        first_name="三",
        last_name="张",
        phone="13800001111",
        email="zhang@example.com",
        device_id="dev-42",
        account_id="acc-7",
        media_url="https://img.example.com/p/1.jpg",
        public_consent="true",
        **{"attribute[severity_hint]": "high"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    [answer] = r.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] == "acc-7"
    assert "较急" in answer["service_notice"] and "1天内办结" in answer["service_notice"]
    rid = answer["service_request_id"]

    rep = report(engine, rid)
    assert (rep.channel, rep.unit_id, rep.category_code, rep.state) == (
        "open311",
        w.units["B1"],
        "fire_hazard",
        "assigned",
    )
    assert rep.handler_user_id == w.users["gridworker1"]  # routed like every other report
    assert (rep.reporter_name, rep.reporter_phone, rep.reporter_email) == ("张三", "13800001111", "zhang@example.com")
    assert rep.address == "阳光社区 一苑 1栋 楼道" and rep.external_ref == "open311:test-app"
    assert rep.attributes == {
        "injured": "no",
        "severity_hint": "high",
        "media_url": "https://img.example.com/p/1.jpg",
        "device_id": "dev-42",
        "account_id": "acc-7",
    }
    assert rep.severity == "high" and rep.public_consent is True  # the category's: a hint does not grade it
    assert rep.due_resolve - rep.created_at == timedelta(days=1)
    with transaction(engine) as s:
        inbox = s.scalars(select(Notification).where(Notification.user_id == w.users["gridworker1"])).all()
        assert [n.report_id for n in inbox] == [rid]
        audit = s.scalar(select(AuditEntry).where(AuditEntry.entity == "report", AuditEntry.entity_id == rid))
        assert audit.actor_name == "open311:test-app"
        key = s.scalar(select(ApiKey).where(ApiKey.name == "test-app"))
        assert key.use_count == 1 and key.last_used_at is not None

    one = client.get(f"{BASE}/requests/{rid}.json")
    assert one.status_code == 200
    [item] = one.json()
    assert item["service_request_id"] == rid and item["status"] == "open"
    assert (item["service_code"], item["service_name"]) == ("fire_hazard", "消防隐患")
    assert item["description"] is None  # until staff publish a text, the public reads none
    assert item["agency_responsible"] == rep.handler_label and "网格员" in item["agency_responsible"]
    assert item["status_notes"].startswith("已分派")
    assert item["requested_datetime"].endswith("+08:00") and item["expected_datetime"].endswith("+08:00")
    requested = datetime.fromisoformat(item["requested_datetime"])
    assert datetime.fromisoformat(item["expected_datetime"]) - requested == timedelta(days=1)
    assert item["media_url"] is None  # shown once staff have looked at the report
    assert item["address"] == "1栋，一片区，一苑，阳光社区，测试街道" and item["address_id"] == "B1"
    assert (item["lat"], item["long"]) == (32.06, 118.79)  # the building's point (no point was sent)
    for private in ("张三", "13800001111", "zhang@example.com", "dev-42", "楼道"):
        assert private not in one.text
    with transaction(engine) as s:
        secretary = auth_service.principal_for(s, s.get(User, w.users["secretary"]))
        publication.set_public_text(s, secretary, rid, "楼道堆放纸箱，堵住安全出口，张三先生来电 13800001111")
    [item] = client.get(f"{BASE}/requests/{rid}.json").json()
    assert item["description"] == "楼道堆放纸箱，堵住安全出口，[姓名]先生来电 [电话]"
    assert item["media_url"] == "https://img.example.com/p/1.jpg"

    listed = client.get(f"{BASE}/requests.json").json()
    assert [x["service_request_id"] for x in listed] == [rid]
    root = xml(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests"
    [req] = root.findall("request")
    assert req.findtext("service_request_id") == str(rid) and req.findtext("status") == "open"
    assert req.findtext("service_name") == "消防隐患"
    root = xml(client.get(f"{BASE}/requests/{rid}.xml"))
    assert root.findtext("request/agency_responsible") == rep.handler_label


def test_a_request_by_point_uses_the_outlines_and_answers_in_xml(client, engine, w):
    draw_outlines(engine, w)
    r = post(
        client,
        "xml",
        lat="32.0601",
        long="118.8101",
        description="三栋门口积水很深",
        service_code="waterlogging",
        public_consent="yes",
    )
    assert r.status_code == 200, r.text
    root = xml(r)
    assert root.tag == "service_requests"
    rid = int(root.findtext("request/service_request_id"))
    assert root.find("request/token") is None  # realtime: an id, not a token
    assert "较急" in root.findtext("request/service_notice")
    rep = report(engine, rid)
    assert (rep.unit_id, rep.place_source, rep.lat, rep.lon) == (w.units["B3"], "polygon", 32.0601, 118.8101)
    # 三片区 has no grid worker and 和平社区 no chain: the community's staff take it.
    assert rep.handler_user_id == w.users["staff2"]
    [item] = client.get(f"{BASE}/requests/{rid}.json").json()
    assert (item["lat"], item["long"]) == (32.06, 118.79)  # the building's point, not the exact one
    assert item["address"] == "3栋，三片区，二苑，和平社区，测试街道"  # most specific first


def test_address_strings_name_a_building_or_are_refused(client, engine, w):
    with engine.begin() as conn:
        conn.execute(update(Building).where(Building.id == w.units["B2"]).values(address="清溪路12号2栋"))
    cases = {
        "清溪路１２号２栋3单元301室": "B2",  # full-width digits, the flat below the building
        "二苑3栋": "B3",
        "和平社区": "C2",  # no building named: the deepest unit that is
        "一片区": "A1",
    }
    for address, unit in cases.items():
        r = post(client, address_string=address, description="楼道灯坏了")
        assert r.status_code == 200, (address, r.text)
        assert report(engine, r.json()[0]["service_request_id"]).unit_id == w.units[unit], address
    before = count(engine, Report)
    assert_error(post(client, address_string="北京市朝阳区"), 400, "json", "address_string")
    assert_error(post(client, address_string="11栋"), 400, "json", "address_string")  # '1栋' is not '11栋'
    assert count(engine, Report) == before


def test_tokens_give_the_request_id(client, engine, w):
    rid = post(client, address_string="1栋", description="电动车在楼道充电", public_consent="true").json()[0][
        "service_request_id"
    ]
    token = report(engine, rid).token
    assert client.get(f"{BASE}/tokens/{token}.json").json() == [{"service_request_id": rid, "token": token}]
    root = xml(client.get(f"{BASE}/tokens/{token}.xml"))
    assert (root.findtext("request/service_request_id"), root.findtext("request/token")) == (str(rid), token)
    assert_error(client.get(f"{BASE}/tokens/nope.json"), 404, "json")
    assert_error(client.get(f"{BASE}/tokens/nope.xml"), 404, "xml")
    # A report that is not public has no public token either.
    private = post(client, address_string="1栋", description="电动车在楼道充电").json()[0]["service_request_id"]
    assert_error(client.get(f"{BASE}/tokens/{report(engine, private).token}.json"), 404, "json")


def test_consent_is_asked_as_an_attribute_of_every_public_service(client, engine, w):
    fire = {a["code"]: a for a in client.get(f"{BASE}/services/fire_hazard.json").json()["attributes"]}
    consent = fire["public_consent"]
    assert consent["required"] is False and [v["key"] for v in consent["values"]] == ["no", "yes"]
    for private in ("needs_help", "dispute", "security"):  # never public: nothing to agree to
        codes = {a["code"] for a in client.get(f"{BASE}/services/{private}.json").json()["attributes"]}
        assert "public_consent" not in codes, private
    agreed = post(client, address_string="1栋", **{"attribute[public_consent]": "yes"}).json()[0]
    declined = post(client, address_string="1栋", **{"attribute[public_consent]": "no"}).json()[0]
    silent = post(client, address_string="1栋").json()[0]
    assert [report(engine, x["service_request_id"]).public_consent for x in (agreed, declined, silent)] == [
        True,
        False,
        False,
    ]
    assert [x["service_request_id"] for x in client.get(f"{BASE}/requests.json").json()] == [
        agreed["service_request_id"]
    ]
    assert_error(post(client, address_string="1栋", **{"attribute[public_consent]": "maybe"}), 400, "json")
    assert_error(post(client, address_string="1栋", public_consent="perhaps"), 400, "json", "public_consent")


# ---- photos sent as a file ------------------------------------------------------------------

GPS = {1: "N", 2: (32.0, 3.0, 36.0), 3: "E", 4: (118.0, 47.0, 6.0)}


def jpeg_with_gps() -> bytes:
    """A phone photo as clients send it: camera make and the place it was taken in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = GPS  # the GPS IFD
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 160, 200)).save(out, "JPEG", exif=exif)
    raw = out.getvalue()
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825) == GPS
    return raw


def test_a_photo_sent_as_a_multipart_media_file_is_kept_without_its_exif(client, engine, w, tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "media_dir", str(tmp_path / "media"))
    raw = jpeg_with_gps()
    form = {"api_key": KEY, "service_code": "sanitation", "address_string": "1栋", "description": "垃圾桶满了"}
    r = client.post(f"{BASE}/requests.json", data=form, files={"media": ("IMG_0001.jpg", raw, "image/jpeg")})
    assert r.status_code == 200, r.text
    rid = r.json()[0]["service_request_id"]
    with transaction(engine) as s:
        [photo] = s.scalars(select(ReportPhoto).where(ReportPhoto.report_id == rid)).all()
        stored = media.open_path(photo.path).read_bytes()
    assert (photo.kind, photo.content_type, photo.width, photo.height) == ("report", "image/jpeg", 64, 48)
    kept = Image.open(io.BytesIO(stored))
    assert kept.format == "JPEG" and not kept.getexif() and not kept.getexif().get_ifd(0x8825)
    assert b"Exif" not in stored and b"PhoneMaker" not in stored

    # XML answers too; a file under another name, or one that is no picture, stores nothing.
    r = client.post(f"{BASE}/requests.xml", data=form, files={"media": ("p.jpg", raw, "image/jpeg")})
    assert r.status_code == 200, r.text
    before = count(engine, Report)
    assert_error(
        client.post(f"{BASE}/requests.json", data=form, files={"photo": ("p.jpg", raw, "image/jpeg")}),
        400,
        "json",
        "media",
    )
    assert_error(
        client.post(f"{BASE}/requests.json", data=form, files={"media": ("p.jpg", b"not a picture", "image/jpeg")}),
        400,
        "json",
        "media",
    )
    assert count(engine, Report) == before
    # An empty file input is no file.
    r = client.post(f"{BASE}/requests.json", data=form, files={"media": ("", b"", "application/octet-stream")})
    assert r.status_code == 200, r.text


# ---- retries -------------------------------------------------------------------------------


def test_a_retried_post_with_the_same_key_files_once_and_answers_the_same(client, engine, w):
    before = count(engine, Report)
    first = post(client, address_string="1栋", description="消防通道被堵", idempotency_key="retry-0001")
    assert first.status_code == 200, first.text
    for _ in range(2):  # the answer was lost twice
        again = post(client, address_string="1栋", description="消防通道被堵", idempotency_key="retry-0001")
        assert again.status_code == 200 and again.json() == first.json()
    # The header does the same, in XML too, and a key is the client's own: another key files anew.
    h = {"Idempotency-Key": "retry-0002"}
    form = {"api_key": KEY, "service_code": "gas", "address_string": "1栋", "attribute[injured]": "no"}
    one = client.post(f"{BASE}/requests.xml", data=form, headers=h)
    assert one.status_code == 200 and client.post(f"{BASE}/requests.xml", data=form, headers=h).text == one.text
    assert count(engine, Report) == before + 2
    with transaction(engine) as s:
        assert s.scalar(select(ApiKey.use_count).where(ApiKey.name == "test-app")) == 5
        client_id = f"apikey:{s.scalar(select(ApiKey.id).where(ApiKey.name == 'test-app'))}"
        keys = s.execute(select(IdempotencyKey.client, IdempotencyKey.key).order_by(IdempotencyKey.id)).all()
        assert [tuple(k) for k in keys] == [(client_id, "retry-0001"), (client_id, "retry-0002")]
    # The same key with another request is refused in the spec's format, and files nothing.
    changed = post(client, address_string="1栋", description="另一件事", idempotency_key="retry-0001")
    assert_error(changed, 400, "json", "Idempotency-Key")
    assert_error(post(client, address_string="1栋", idempotency_key="bad key with spaces"), 400, "json")
    assert count(engine, Report) == before + 2


# ---- filters -------------------------------------------------------------------------------


def _file(engine, category: str, created: datetime, unit: int) -> int:
    with transaction(engine) as s:
        data = ReportIn(category=category, description=f"{category} 测试", unit_id=unit, public_consent=True)
        return intake.submit_report(s, SYSTEM, data, channel="api", now=created).id


def test_filters_by_id_code_status_and_dates(client, engine, w):
    now = utcnow()
    b1, b3 = w.units["B1"], w.units["B3"]
    fire = _file(engine, "fire_hazard", now - timedelta(days=1), b1)
    gas = _file(engine, "gas", now - timedelta(days=10), b1)
    rubbish = _file(engine, "sanitation", now - timedelta(days=20), b3)
    old = _file(engine, "fire_hazard", now - timedelta(days=120), b1)
    with transaction(engine) as s:
        worker = auth_service.principal_for(s, s.get(User, w.users["gridworker1"]))
        actions.reject(s, worker, gas, reason="燃气公司已处理 / handled by the gas company")

    def ids(**params) -> list[int]:
        r = client.get(f"{BASE}/requests.json", params=params)
        assert r.status_code == 200, r.text
        return [x["service_request_id"] for x in r.json()]

    assert ids() == [fire, gas, rubbish]  # the last 90 days, newest first
    assert ids(status="open") == [fire, rubbish]
    assert ids(status="closed") == [gas]
    assert ids(status="open,closed") == [fire, gas, rubbish]
    assert ids(service_code="fire_hazard") == [fire]
    assert ids(service_code="fire_hazard,sanitation") == [fire, rubbish]
    start = (now - timedelta(days=15)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(start_date=start) == [fire, gas]
    end = (now - timedelta(days=5)).isoformat(timespec="seconds")
    assert ids(end_date=end) == [gas, rubbish]
    old_start = (now - timedelta(days=125)).isoformat(timespec="seconds")
    old_end = (now - timedelta(days=115)).isoformat(timespec="seconds")
    assert ids(start_date=old_start, end_date=old_end) == [old]
    # A '+' sent unencoded arrives as a space; it is still the zone.
    raw = client.get(f"{BASE}/requests.json?start_date={(now - timedelta(days=15)).isoformat(timespec='seconds')}")
    assert [x["service_request_id"] for x in raw.json()] == [fire, gas]
    # service_request_id overrides every other filter.
    assert ids(service_request_id=f"{old},{gas}", status="open") == [gas, old]
    [closed] = client.get(f"{BASE}/requests/{gas}.json").json()
    # The state, not the words staff wrote about it (they may name people).
    assert closed["status"] == "closed" and closed["status_notes"] == "已退回"
    assert "燃气公司" not in client.get(f"{BASE}/requests.json").text

    before = count(engine, Report)
    assert_error(client.get(f"{BASE}/requests.json", params={"start_date": "yesterday"}), 400, "json", "start_date")
    assert_error(client.get(f"{BASE}/requests.json", params={"end_date": "2025-03-01T10:00:00"}), 400, "json")
    assert_error(client.get(f"{BASE}/requests.xml", params={"start_date": "2025-02-30"}), 400, "xml")
    assert_error(
        client.get(f"{BASE}/requests.json", params={"start_date": "2025-03-01", "end_date": "2025-02-01"}), 400
    )
    assert_error(
        client.get(f"{BASE}/requests.json", params={"start_date": "2025-01-01", "end_date": "2025-06-01"}), 400
    )
    assert_error(client.get(f"{BASE}/requests.json", params={"status": "pending"}), 400, "json", "status")
    assert_error(client.get(f"{BASE}/requests.json", params={"service_code": "potholes"}), 400, "json", "potholes")
    assert_error(client.get(f"{BASE}/requests.json", params={"service_request_id": "1,x"}), 400)
    assert_error(client.get(f"{BASE}/requests/999999.json"), 404)
    assert_error(client.get(f"{BASE}/requests/abc.xml"), 404, "xml")
    assert_error(client.get(f"{BASE}/requests/{'9' * 40}.json"), 404)
    assert count(engine, Report) == before


def test_public_reads_show_the_building_not_the_flat_nor_the_reporter(client, engine, w):
    with transaction(engine) as s:
        resident = auth_service.principal_for(s, s.get(User, w.users["resident1"]))
        filed = {}
        for category in ("needs_help", "sanitation"):
            data = ReportIn(
                category=category,
                description="我父亲行动不便，门口垃圾没人清",
                household_id=w.households["H1"],
                address="1栋1单元101室",
                public_consent=True,
            )
            filed[category] = intake.submit_report(s, resident, data, channel="resident_app").id
    r = client.get(f"{BASE}/requests/{filed['sanitation']}.json")
    [item] = r.json()
    assert item["description"] is None and "行动不便" not in r.text
    assert item["address"].startswith("1栋，一片区") and "101" not in r.text
    assert "王小明" not in r.text and item["media_url"] is None
    # 困难求助 is private whatever the reporter agreed.
    assert_error(client.get(f"{BASE}/requests/{filed['needs_help']}.json"), 404)


# ---- jurisdictions -------------------------------------------------------------------------


def test_jurisdiction_is_a_streets_code_or_the_configured_value(client, engine, w, monkeypatch):
    assert client.get(f"{BASE}/services.json", params={"jurisdiction_id": "S"}).status_code == 200
    assert_error(client.get(f"{BASE}/services.json", params={"jurisdiction_id": "sfgov.org"}), 404, "json", "sfgov")
    assert_error(client.get(f"{BASE}/services.xml", params={"jurisdiction_id": "C1"}), 404, "xml")  # not a street
    assert_error(client.get(f"{BASE}/services/gas.json", params={"jurisdiction_id": "x"}), 404)
    assert_error(client.get(f"{BASE}/requests.json", params={"jurisdiction_id": "x"}), 404)
    before = count(engine, Report)
    assert_error(post(client, jurisdiction_id="nowhere.gov", address_string="1栋"), 404, "json", "jurisdiction_id")
    assert count(engine, Report) == before

    rid = post(client, jurisdiction_id="S", address_string="1栋", public_consent="true").json()[0]["service_request_id"]
    assert [x["service_request_id"] for x in client.get(f"{BASE}/requests.json?jurisdiction_id=S").json()] == [rid]
    monkeypatch.setattr(get_settings(), "open311_jurisdiction", "qingxi.gov.cn")
    assert client.get(f"{BASE}/requests/{rid}.json?jurisdiction_id=qingxi.gov.cn").status_code == 200
    # Empty optional arguments are no arguments.
    assert client.get(f"{BASE}/requests/{rid}.json?jurisdiction_id=").status_code == 200

    # A second street: its requests are not the first street's.
    with transaction(engine) as s:
        from_other = GridUnit(level="street", code="S2", name="另一街道", path="")
        s.add(from_other)
        s.flush()
        from_other.path = f"/{from_other.id}/"
    assert client.get(f"{BASE}/requests.json?jurisdiction_id=S2").json() == []
    assert_error(client.get(f"{BASE}/requests/{rid}.json?jurisdiction_id=S2"), 404)
    assert_error(post(client, jurisdiction_id="S2", address_string="1栋"), 400, "json", "address_string")


# ---- errors --------------------------------------------------------------------------------


def test_bad_requests_get_the_specs_errors_and_store_nothing(client, engine, w):
    draw_outlines(engine, w)
    reports, notes, audits = count(engine, Report), count(engine, Notification), count(engine, AuditEntry)
    cases = [
        (dict(api_key=None), 403, "api_key"),
        (dict(api_key=OLD_KEY), 403, "api_key"),  # revoked
        (dict(api_key="wrong-key-wrong-key"), 403, "api_key"),
        (dict(service_code=None, address_string="1栋"), 400, "service_code"),
        (dict(service_code="potholes", address_string="1栋"), 400, "service_code"),
        (dict(lat="abc", long="118.785"), 400, "lat"),
        (dict(lat="95", long="118.785"), 400, "lat"),
        (dict(lat="nan", long="118.785"), 400, "lat"),
        (dict(lat="32.06"), 400, "long"),
        (dict(lat="0.5", long="0.5"), 400, "不在任何社区"),
        (dict(), 400, "lat"),  # no place at all
        (dict(address_string="1栋", **{"attribute[injured]": None}), 400, "attribute[injured]"),
        (dict(address_string="1栋", **{"attribute[injured]": "maybe"}), 400, "attribute[injured]"),
        (dict(address_string="1栋", **{"attribute[colour]": "red"}), 400, "attribute[colour]"),
        (dict(address_string="1栋", phone="12345"), 400, "phone"),
        (dict(address_string="1栋", email="not-an-address"), 400, "email"),
        (dict(address_string="1栋", media_url="javascript:alert(1)"), 400, "media_url"),
        (dict(address_string="1栋", description="x" * 4001), 400, "description"),
        (dict(address_string="1栋", jurisdiction_id="sfgov.org"), 404, "jurisdiction_id"),
    ]
    for form, status, mentions in cases:
        assert_error(post(client, **form), status, "json", mentions)
    assert_error(post(client, "xml", api_key=None, address_string="1栋"), 403, "xml", "api_key")
    assert_error(post(client, "xml", service_code="potholes", address_string="1栋"), 400, "xml", "service_code")
    assert_error(post(client, "yaml", address_string="1栋"), 404, "xml")
    # Not form-encoded: the key is checked first, then the encoding.
    as_json = {"api_key": KEY, "service_code": "gas", "address_string": "1栋"}
    assert_error(client.post(f"{BASE}/requests.json", json=as_json), 403, "json")
    assert_error(client.post(f"{BASE}/requests.json?api_key={KEY}", json=as_json), 400, "json", "x-www-form")
    # Unknown resources and methods stay in the spec's format, never a 500.
    assert_error(client.get(f"{BASE}/potholes.json"), 404, "json")
    assert_error(client.delete(f"{BASE}/requests.xml"), 404, "xml")

    assert (count(engine, Report), count(engine, Notification), count(engine, AuditEntry)) == (reports, notes, audits)
    with transaction(engine) as s:
        assert s.scalar(select(ApiKey.use_count).where(ApiKey.name == "test-app")) == 0


# ---- API keys ------------------------------------------------------------------------------


def test_api_keys_are_stored_hashed_and_managed_by_administrators(engine, world):
    with transaction(engine) as s:
        row, secret = apikeys.create_key(s, SYSTEM, "city-app")
        assert secret.startswith("rx_") and len(secret) > 30
        assert row.key_hash == apikeys.hash_key(secret) and secret not in (row.key_hash, row.prefix)
        assert apikeys.verify_key(s, secret).id == row.id
        assert apikeys.verify_key(s, secret + "x") is None and apikeys.verify_key(s, None) is None
        with pytest.raises(Conflict):
            apikeys.create_key(s, SYSTEM, "city-app")
        secretary = auth_service.principal_for(s, s.get(User, world.users["secretary"]))
        with pytest.raises(Forbidden):
            apikeys.create_key(s, secretary, "mine")
        apikeys.revoke_key(s, SYSTEM, "city-app")
        assert apikeys.verify_key(s, secret) is None
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "api_key")).all()
        assert sorted(actions) == ["create", "revoke"]


def test_the_apikey_command(engine, monkeypatch):
    monkeypatch.setattr(cli, "get_engine", lambda: engine)
    runner = CliRunner()
    created = runner.invoke(cli.app, ["apikey", "create", "city-311"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    with transaction(engine) as s:
        assert apikeys.verify_key(s, secret).name == "city-311"
    assert runner.invoke(cli.app, ["apikey", "create", "city-311"]).exit_code == 1
    listed = runner.invoke(cli.app, ["apikey", "list"])
    assert listed.exit_code == 0 and "city-311" in listed.output and secret not in listed.output
    assert runner.invoke(cli.app, ["apikey", "revoke", "city-311"]).exit_code == 0
    assert runner.invoke(cli.app, ["apikey", "revoke", "city-311"]).exit_code == 1
    with transaction(engine) as s:
        assert apikeys.verify_key(s, secret) is None


def test_the_demo_has_its_key_and_takes_requests(engine, client):
    build_demo(engine, scale=0.01)
    with transaction(engine) as s:
        building = s.scalar(select(GridUnit).where(GridUnit.level == "building").order_by(GridUnit.id))
        address = s.get(Building, building.id).address
    r = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": DEMO_API_KEY,
            "service_code": "damaged_facility",
            "lat": str(building.lat),
            "long": str(building.lon),
            "description": "单元门禁坏了",
        },
    )
    assert r.status_code == 200, r.text
    by_point = report(engine, r.json()[0]["service_request_id"])
    assert by_point.unit_id == building.id and by_point.handler_user_id is not None
    r = client.post(
        f"{BASE}/requests.xml",
        data={"api_key": DEMO_API_KEY, "service_code": "sanitation", "address_string": address, "description": "垃圾"},
    )
    assert r.status_code == 200, r.text
    assert report(engine, int(xml(r).findtext("request/service_request_id"))).unit_id == building.id
