"""CAP 1.2 as the platform writes it: valid against the schema, +08:00 times, closed "lat,lon" polygons,
references, the colour as a parameter; and drawn polygons checked before they get there."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from renxing.warning import cap_schema
from renxing.warning.cap_write import (
    CapInvalid,
    CapLevel,
    CapMessage,
    CapText,
    build,
    cap_polygon,
    cap_time,
    reference,
)
from renxing.warning.polygon import PolygonError, parse_polygon

NS = {"cap": cap_schema.NS}
ORANGE = CapLevel("orange", "橙色", "Severe", "Expected", "Likely")
T0 = datetime(2025, 3, 3, 2, 0, 30, 123456, tzinfo=UTC)
RING = [(118.78, 32.05), (118.80, 32.05), (118.80, 32.07), (118.78, 32.07), (118.78, 32.05)]


def message(**changes) -> CapMessage:
    values = dict(
        identifier="CN-RX-20250303100030-1",
        sender="renxing@example.org",
        sent=T0,
        msg_type="Alert",
        exercise=False,
        public=True,
        category="Met",
        level=ORANGE,
        texts=[
            CapText(
                "zh-CN", "暴雨内涝", "暴雨橙色预警", "预计6小时内降雨量达50毫米以上。", "远离低洼地带。", "阳光社区"
            )
        ],
        area_desc="阳光社区",
        polygons=[RING],
        unit_code="C1",
        effective=T0,
        expires=T0 + timedelta(hours=6),
    )
    values.update(changes)
    return CapMessage(**values)


def parsed(msg: CapMessage) -> etree._Element:
    root = cap_schema.parse_valid(build(msg))  # every message built here validates
    return root


def text(root, path: str) -> str:
    return root.findtext(path, namespaces=NS)


def test_an_orange_alert_validates_with_times_in_shanghai_and_the_colour_as_a_parameter():
    root = parsed(message())
    assert text(root, "cap:sent") == "2025-03-03T10:00:30+08:00"
    assert text(root, "cap:status") == "Actual"
    assert text(root, "cap:scope") == "Public"
    assert text(root, "cap:info/cap:expires") == "2025-03-03T16:00:30+08:00"
    assert text(root, "cap:info/cap:language") == "zh-CN"
    assert (text(root, "cap:info/cap:severity"), text(root, "cap:info/cap:urgency")) == ("Severe", "Expected")
    params = {
        p.findtext("cap:valueName", namespaces=NS): p.findtext("cap:value", namespaces=NS)
        for p in root.findall("cap:info/cap:parameter", NS)
    }
    assert params == {"warningLevel": "orange", "warningLevelZh": "橙色"}
    assert text(root, "cap:info/cap:area/cap:geocode/cap:value") == "C1"


def test_polygons_are_lat_lon_pairs_first_equal_to_last():
    root = parsed(message(polygons=[RING[:-1]]))  # an open ring is closed when written
    pairs = text(root, "cap:info/cap:area/cap:polygon").split(" ")
    assert pairs[0] == pairs[-1] == "32.05,118.78"
    assert pairs[1] == "32.05,118.8"
    assert len(pairs) == 5
    with pytest.raises(ValueError):
        cap_polygon([(118.0, 32.0), (118.1, 32.0)])


def test_exercise_restricted_update_with_references_and_a_second_language():
    refs = [reference("renxing@example.org", "CN-RX-1", "2025-03-03T10:00:00+08:00")]
    msg = message(
        exercise=True,
        public=False,
        restriction="仅限社区工作人员",
        msg_type="Update",
        references=refs,
        texts=[*message().texts, CapText("en-US", "Rainstorm", "Orange rainstorm warning", "Heavy rain expected.")],
    )
    root = parsed(msg)
    assert text(root, "cap:status") == "Exercise"
    assert (text(root, "cap:scope"), text(root, "cap:restriction")) == ("Restricted", "仅限社区工作人员")
    assert text(root, "cap:references") == "renxing@example.org,CN-RX-1,2025-03-03T10:00:00+08:00"
    assert [i.findtext("cap:language", namespaces=NS) for i in root.findall("cap:info", NS)] == ["zh-CN", "en-US"]


def test_what_the_schema_or_the_table_refuses_is_never_built():
    with pytest.raises(CapInvalid) as exc:
        build(message(level=CapLevel("orange", "橙色", "Severe", "Soon", "Likely")))
    assert exc.value.errors[0].element == "urgency"
    with pytest.raises(CapInvalid):
        build(message(msg_type="Cancel"))  # no references
    with pytest.raises(CapInvalid) as exc:
        build(message(identifier=""))  # the schema: identifier is a non-empty string
    assert "identifier" in exc.value.errors[0].element
    with pytest.raises(ValueError):
        cap_time(datetime(2025, 1, 1))


def test_drawn_polygons_must_be_closed_simple_and_sane():
    closed = {"type": "Polygon", "coordinates": [[list(p) for p in RING]]}
    assert parse_polygon(closed) == RING
    bad = [
        {"type": "Polygon", "coordinates": [[list(p) for p in RING[:-1]]]},  # not closed
        {"type": "Polygon", "coordinates": [[[118.78, 32.05], [118.8, 32.05], [118.78, 32.05]]]},
        {"type": "Point", "coordinates": [118.78, 32.05]},
        {"type": "Polygon", "coordinates": [[[118, 32], [119, 32], [119, 33], [118, 33], [118, 32]]]},  # too wide
        {
            "type": "Polygon",
            "coordinates": [[[118.78, 32.05], [118.8, 32.07], [118.8, 32.05], [118.78, 32.07], [118.78, 32.05]]],
        },
        {"type": "Polygon", "coordinates": [[[200, 32.05], [200.01, 32.05], [200.01, 32.06], [200, 32.05]]]},
        {"type": "Polygon", "coordinates": [[["a", 1], [1, 2], [2, 2], ["a", 1]]]},
    ]
    for value in bad:
        with pytest.raises(PolygonError):
            parse_polygon(value)


def test_a_polygon_drawn_on_a_gcj02_map_is_stored_in_wgs84_and_still_closed():
    ring = parse_polygon({"type": "Polygon", "coordinates": [[list(p) for p in RING]]}, "gcj02")
    assert ring[0] == ring[-1]
    assert abs(ring[0][0] - 118.78) > 1e-4  # moved by the datum (a few hundred metres)
    assert abs(ring[0][0] - 118.78) < 0.01


@settings(max_examples=60, deadline=None)
@given(
    lon=st.floats(73, 135),
    lat=st.floats(4, 53),
    w=st.floats(0.0005, 0.4),
    h=st.floats(0.0005, 0.4),
    minutes=st.integers(0, 60 * 24 * 365 * 20),
)
def test_any_sane_box_at_any_time_gives_a_valid_message(lon, lat, w, h, minutes):
    ring = [(lon, lat), (lon + w, lat), (lon + w, lat + h), (lon, lat + h), (lon, lat)]
    sent = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes, seconds=0.5)
    root = parsed(message(polygons=[parse_polygon({"type": "Polygon", "coordinates": [ring]})], sent=sent))
    assert text(root, "cap:sent").endswith("+08:00")
    pairs = text(root, "cap:info/cap:area/cap:polygon").split(" ")
    first_lat, first_lon = (float(x) for x in pairs[0].split(","))
    assert pairs[0] == pairs[-1] and abs(first_lat - lat) < 1e-6 and abs(first_lon - lon) < 1e-6
