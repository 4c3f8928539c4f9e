"""Reading CAP 1.2 (pure): the specification's examples and a Chinese rainstorm warning as issuers
send them, the variants the standard allows, what its prose forbids named by element, China's colours."""

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renxing.warning import cap_read, cap_schema
from renxing.warning.cap_read import Info, colour_in_text, level_of
from renxing.warning.cap_schema import CapRefused
from tests.kit.alerts_world import RAINSTORM, SPEC, cap

TABLE = {"Minor": "blue", "Moderate": "yellow", "Severe": "orange", "Extreme": "red"}


def read(data: bytes) -> cap_read.Alert:
    return cap_read.read(cap_schema.parse_valid(data))


def refused(data: bytes) -> list[cap_schema.CapError]:
    with pytest.raises(CapRefused) as caught:
        read(data)
    return caught.value.errors


def test_the_specifications_examples_are_read_as_written():
    a1 = read(SPEC["a1"].read_bytes())
    assert (a1.identifier, a1.status, a1.msg_type) == ("43b080713727", "Actual", "Alert")
    assert a1.sent == datetime(2003, 4, 2, 19, 39, 1, tzinfo=UTC)
    assert a1.areas[0].desc == "U.S. nationwide and interests worldwide" and not a1.areas[0].has_shape
    assert a1.display.resources[0].mime_type == "image/gif" and a1.display.resources[0].embedded_bytes == 0
    assert level_of(a1.display, TABLE) == "orange"  # HSAS = ORANGE, "Code ORANGE"

    a2 = read(SPEC["a2"].read_bytes())
    area = a2.areas[0]
    assert area.polygons[0][0] == (38.47, -120.14) and area.polygons[0][0] == area.polygons[0][-1]
    assert area.geocodes == (("SAME", "006109"), ("SAME", "006009"), ("SAME", "006003"))
    assert a2.display.expires == datetime(2003, 6, 17, 23, 0, tzinfo=UTC)

    a3 = read(SPEC["a3"].read_bytes())
    assert a3.msg_type == "Update"
    ref = a3.references[0]
    assert (ref.sender, ref.identifier, ref.sent_text) == (
        "trinet@caltech.edu",
        "TRI13970876.1",
        "2003-06-11T20:30:00-07:00",
    )
    assert a3.areas[0].circles[0] == cap_read.Circle(32.9525, -115.5527, 0.0)
    assert level_of(a3.display, TABLE) == "blue"  # Minor

    a4 = read(SPEC["a4"].read_bytes())
    assert [i.language for i in a4.infos] == ["en-US", "es-US"]
    assert a4.display.language == "en-US"  # no Chinese block: the first
    assert a4.display.description.startswith("DATE/TIME")
    assert level_of(a4.display, TABLE) == "orange"  # "RED SHORTS" in the description is not a colour


def test_a_chinese_rainstorm_warning_shows_its_chinese_block_and_its_orange():
    alert = read(RAINSTORM.read_bytes())
    assert alert.sent == datetime(2025, 7, 3, 1, 30, tzinfo=UTC)
    info = alert.display
    assert info.language == "zh-CN" and info.headline == "南京市鼓楼区气象台发布暴雨橙色预警[Ⅱ级/严重]"
    assert info.sender_name == "南京市鼓楼区气象台" and info.event_codes == (("预警事件类型", "11B03"),)
    assert level_of(info, TABLE) == "orange"
    assert level_of(alert.infos[1], TABLE) == "orange"  # "Orange Rainstorm Warning"
    assert len(alert.areas) == 2 and alert.areas[0].geocodes == (("行政区划代码", "320106"),)
    assert info.resources[0].uri.endswith("11B03_orange.png")


def test_variants_the_standard_allows():
    base = SPEC["a2"].read_bytes()
    bom = b"\xef\xbb\xbf" + base
    assert read(bom).identifier == "KSTO1055887203"
    latin = base.replace(b'encoding = "UTF-8"', b'encoding="ISO-8859-1"')
    latin = latin.replace(b"SEVERE THUNDERSTORM WARNING", "ORAGE SÉVÈRE".encode("latin-1"))
    root = cap_schema.parse_valid(latin)
    assert cap_read.read(root).display.headline == "ORAGE SÉVÈRE"
    stored = cap_read.document_text(latin, root.getroottree().docinfo.encoding)
    assert "SÉVÈRE" in stored and cap_read.read(cap_schema.parse(cap_read.document_bytes(stored))).identifier
    assert cap_read.document_text(bom, "UTF-8").startswith("<?xml")

    prefixed = base.replace(b"<alert xmlns = ", b"<cap:alert xmlns:cap = ").replace(b"</alert>", b"</cap:alert>")
    prefixed = re.sub(rb"<(/?)(?!cap:|\?)(\w+)", rb"<\1cap:\2", prefixed)
    assert b"<cap:polygon>" in prefixed
    assert read(prefixed).areas[0].polygons[0][1] == (38.34, -119.95)

    signature = (
        b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>'
        b'<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        b'<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        b'<Reference URI=""><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        b"<DigestValue>dGVzdA==</DigestValue></Reference></SignedInfo>"
        b"<SignatureValue>c2lnbmF0dXJl</SignatureValue></Signature></alert>"
    )
    assert read(base.replace(b"</alert>", signature)).identifier == "KSTO1055887203"

    cancel = read(
        cap("C-1", msg_type="Cancel", references="district@example.cn,RX-1,2025-07-03T09:30:00+08:00", info=False)
    )
    assert cancel.infos == () and cancel.display is None and level_of(cancel.display, TABLE) is None

    geocoded = read(
        cap(
            area="<areaDesc>鼓楼区</areaDesc><geocode><valueName>行政区划代码</valueName><value>320106</value></geocode>"
        )
    )
    assert not geocoded.areas[0].has_shape and geocoded.areas[0].geocodes == (("行政区划代码", "320106"),)


def test_resources_are_measured_not_decoded():
    blob = "QUJD" * 1000  # 3,000 bytes once decoded
    resource = (
        f"<resource><resourceDesc>map</resourceDesc><mimeType>image/png</mimeType><size>3000</size>"
        f"<derefUri>{blob[:2000]}\n  {blob[2000:]}</derefUri></resource>"
    )
    data = cap().replace(b"<area>", resource.encode() + b"<area>")
    r = read(data).display.resources[0]
    assert (r.desc, r.size, r.embedded_bytes, r.uri) == ("map", 3000, 3000, None)


@pytest.mark.parametrize(
    ("polygon", "why"),
    [
        ("32.05,118.78 32.05,118.80 32.07,118.80 32.07,118.78", "未闭合"),
        ("32.05,118.78 32.05,118.80 32.05,118.78", "至少需要 4 个"),
        ("32.05;118.78 32.05,118.80 32.07,118.80 32.05;118.78", "纬度,经度"),
        ("132.05,118.78 32.05,118.80 32.07,118.80 132.05,118.78", "超出范围"),
    ],
)
def test_a_polygon_the_standard_forbids_is_refused_naming_it(polygon, why):
    data = cap(area=f"<areaDesc>x</areaDesc><polygon>{polygon}</polygon>")
    errors = refused(data)
    assert errors[0].element == "/alert/info[1]/area[1]/polygon[1]" and why in errors[0].message


def test_whitespace_anywhere_in_a_polygon_or_circle_is_allowed():
    polygon = "\n  32.05 , 118.78   32.05,118.80\t32.07,  118.80 32.05,118.78\n"
    area = f"<areaDesc>x</areaDesc><polygon>{polygon}</polygon><circle> 32.06 ,118.79   0.5 </circle>"
    got = read(cap(area=area)).areas[0]
    assert got.polygons[0] == ((32.05, 118.78), (32.05, 118.80), (32.07, 118.80), (32.05, 118.78))
    assert got.circles[0] == cap_read.Circle(32.06, 118.79, 0.5)
    errors = refused(cap(area="<areaDesc>x</areaDesc><circle>32.06,118.79 -1</circle>"))
    assert errors[0].element == "/alert/info[1]/area[1]/circle[1]"


def test_the_schema_and_references_refuse_naming_the_element():
    assert refused(cap(status="Bogus"))[0].element == "/alert/status"
    assert refused(b"<alert><unclosed></alert>")[0].element == "xml"
    assert refused(cap(references="district@example.cn,RX-1"))[0].element == "/alert/references"
    assert refused(cap(sent="2025-07-03T09:30:00Z"))[0].element == "/alert/sent"  # CAP wants the offset written


def test_several_references_are_triples():
    refs = cap_read.parse_references("a@x,ID-1,2025-07-03T09:30:00+08:00  a@x,ID-2,2025-07-03T10:30:00+08:00")
    assert [r.identifier for r in refs] == ["ID-1", "ID-2"]
    assert refs[1].sent == datetime(2025, 7, 3, 2, 30, tzinfo=UTC)


def _info(**kw) -> Info:
    values = {
        "language": "zh-CN",
        "categories": ("Met",),
        "event": "暴雨",
        "urgency": "Expected",
        "severity": "Moderate",
        "certainty": "Likely",
    }
    return Info(**{**values, **kw})


@pytest.mark.parametrize(
    ("kw", "level"),
    [
        ({"headline": "市气象台发布暴雨橙色预警信号"}, "orange"),
        ({"event": "台风红色预警"}, "red"),
        ({"headline": "暴雨黄色预警升级为橙色预警"}, "orange"),  # the last named is the one in force
        ({"headline": "暴雨橙色预警降级为黄色预警"}, "yellow"),
        ({"parameters": (("预警级别", "蓝色"),), "headline": "暴雨预警"}, "blue"),
        ({"parameters": (("HSAS", "RED"),)}, "red"),
        ({"headline": "Red Flag Warning", "severity": "Minor"}, "blue"),  # a fire-weather product, not a colour
        ({"headline": "Yellow Thunderstorm Warning"}, "yellow"),
        ({"headline": "暴雨预警", "severity": "Extreme"}, "red"),
        ({"headline": "暴雨预警", "severity": "Unknown"}, None),
    ],
)
def test_china_s_colours_from_the_words_else_from_severity(kw, level):
    assert level_of(_info(**kw), TABLE) == level


def test_the_colour_table_maps_severity_and_the_lower_rank_wins_a_tie():
    rows = [("blue", 1, "Minor"), ("yellow", 2, "Moderate"), ("orange", 3, "Severe"), ("red", 4, "Extreme")]
    assert cap_read.severity_table(rows) == TABLE
    assert cap_read.severity_table([*rows, ("white", 0, "Minor")])["Minor"] == "white"
    assert colour_in_text(None) is None


coordinate = st.tuples(
    st.floats(-90, 90, allow_nan=False).map(lambda v: round(v, 5)),
    st.floats(-180, 180, allow_nan=False).map(lambda v: round(v, 5)),
)
gap = st.sampled_from([" ", "  ", "\n", "\t", " \n "])


@given(st.lists(coordinate, min_size=3, max_size=12), gap, st.sampled_from(["", " "]))
def test_a_closed_ring_reads_back_whatever_the_spacing(points, space, around_comma):
    ring = [*points, points[0]]
    text = space.join(f"{lat}{around_comma},{around_comma}{lon}" for lat, lon in ring)
    assert cap_read.parse_polygon(space + text + space, "p") == tuple(ring)
