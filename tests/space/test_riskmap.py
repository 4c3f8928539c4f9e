"""The printable community risk map: the pure renderer, the data it is drawn from, the pages and the CLI."""

import io
import json
import math
import re
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import update
from typer.testing import CliRunner

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.grid.models import GridUnit
from renxing.space import layers as space
from renxing.space import riskmap_data
from renxing.space.riskmap import fonts, render, style
from renxing.space.riskmap.inputs import (
    BuildingOutline,
    HazardArea,
    RiskMapData,
    RoadLine,
    Route,
    ShelterArea,
    Site,
)
from tests.kit.client import login
from tests.kit.space_world import line as gj_line
from tests.kit.space_world import ll, place_world, square

A3_PT = (420 / 25.4 * 72, 297 / 25.4 * 72)  # 1190.55 × 841.89


def _box(lon0: float, lat0: float, x0: float, y0: float, x1: float, y1: float) -> dict:
    """A rectangle given in metres around (lon0, lat0), using the latitude's true metres per degree."""
    kx = 111_320.0 * math.cos(math.radians(lat0))
    ky = 110_950.0

    def p(x: float, y: float) -> list[float]:
        return [lon0 + x / kx, lat0 + y / ky]

    ring = [p(x0, y0), p(x1, y0), p(x1, y1), p(x0, y1), p(x0, y0)]
    return {"type": "Polygon", "coordinates": [ring]}


def sample(lon0: float = 118.79, lat0: float = 32.06, **over) -> RiskMapData:
    kx = 111_320.0 * math.cos(math.radians(lat0))
    ky = 110_950.0

    def pt(x: float, y: float) -> tuple[float, float]:
        return lon0 + x / kx, lat0 + y / ky

    data = RiskMapData(
        community="阳光社区",
        street="测试街道",
        date=date(2026, 11, 25),
        version="2026-11-25 09:00 · abcd1234",
        boundary=_box(lon0, lat0, -300, -200, 300, 200),
        buildings=[
            BuildingOutline(_box(lon0, lat0, x, y, x + 40, y + 12), f"{i}栋")
            for i, (x, y) in enumerate([(-250, 100), (-150, 100), (-250, 0), (-150, 0), (50, 120)], 1)
        ],
        hazard_zones=[
            HazardArea("flood", 3, _box(lon0, lat0, -280, -180, -100, -60), "低洼积水区", "0.5-1"),
            HazardArea("fire", 2, _box(lon0, lat0, -260, 80, -100, 140), "老旧楼栋火灾风险区"),
            HazardArea("facility_buffer", 4, _box(lon0, lat0, 180, -180, 280, -80), "加油站影响区"),
        ],
        risk_points=[Site("中石化加油站", *pt(230, -130), "petrol_station"), Site("变电站", *pt(0, 150), "substation")],
        shelters=[
            ShelterArea("阳光广场", 1200, *pt(150, 50), _box(lon0, lat0, 110, 20, 190, 80), "square", "open"),
            ShelterArea(
                "阳光小学操场",
                900,
                *pt(-40, -120),
                _box(lon0, lat0, -80, -150, 0, -90),
                "school_playground",
                "candidate",
            ),
        ],
        routes=[
            Route([pt(-230, 100), pt(-230, 60), pt(100, 60), pt(150, 50)], "阳光广场", 40),
            Route([pt(-130, 0), pt(-130, 60), pt(100, 60), pt(150, 50)], "阳光广场", 25),
        ],
        supply_points=[Site("社区应急物资储备点", *pt(60, -40), "supply_point")],
        clinics=[Site("社区卫生服务站", *pt(-40, 40), "clinic")],
        fire_stations=[Site("微型消防站", *pt(250, 150), "fire_station")],
        roads=[
            RoadLine("primary", {"type": "LineString", "coordinates": [pt(-320, 60), pt(320, 60)]}, "阳光大道"),
            RoadLine("service", {"type": "LineString", "coordinates": [pt(-230, 60), pt(-230, 100)]}, ""),
            RoadLine("footway", {"type": "LineString", "coordinates": [pt(-130, 0), pt(-130, 60)]}, ""),
        ],
        routes_note="测试方案",
    )
    for k, v in over.items():
        setattr(data, k, v)
    return data


# ---- the pure renderer ----------------------------------------------------------------------------


def test_pdf_is_one_a3_page_with_title_metadata():
    body, info = render.render_bytes(sample(), "pdf")
    assert body.startswith(b"%PDF")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", body)
    assert len(pages) == 1
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", body)
    assert len(boxes) == 1
    w, h = (float(v) for v in boxes[0])
    assert w == pytest.approx(A3_PT[0], abs=0.05) and h == pytest.approx(A3_PT[1], abs=0.05)
    assert "阳光社区风险示意图".encode("utf-16-be") in body  # the PDF's /Title
    assert info.format == "pdf" and info.size_mm == (420.0, 297.0)
    assert b"/FontFile2" in body  # the CJK font is embedded as TrueType: text stays vector


@pytest.mark.parametrize("dpi", [150, 200])
def test_png_has_a3_pixels_at_dpi(dpi):
    body, info = render.render_bytes(sample(), "png", dpi=dpi)
    img = Image.open(io.BytesIO(body))
    assert img.format == "PNG"
    w, h = img.size
    assert abs(w - 420 / 25.4 * dpi) < 1 and abs(h - 297 / 25.4 * dpi) < 1  # whole pixels of A3
    assert info.dpi == dpi


def test_renderer_draws_every_feature_it_is_given():
    data = sample()
    _, info = render.render_bytes(data, "png", dpi=72)
    assert info.counts["buildings"] == len(data.buildings)
    assert info.counts["hazard_zones"] == len(data.hazard_zones)
    assert info.counts["shelters"] == len(data.shelters)
    assert info.counts["routes"] == len(data.routes)
    assert info.counts["risk_points"] == 2 and info.counts["roads"] == 3
    assert info.counts["clinics"] == info.counts["fire_stations"] == info.counts["supply_points"] == 1
    # the legend names every kind and level present, and nothing absent
    expected = [
        "洪涝/内涝·高",
        "火灾风险·中",
        "危险源影响区·极高",
        "加油站",
        "变电站",
        "避难场所（容纳人数）",
        "备用场所（可转换）",
        "疏散路线及方向",
        "医疗点/卫生站",
        "消防站/微型消防站",
        "应急物资点",
        "主干道",
        "步行道",
        "社区边界",
    ]
    for entry in expected:
        assert entry in info.legend, entry
    for absent in ("风沙", "地质灾害", "暂停使用的场所", "危化品仓库", "洪涝/内涝·低"):
        assert absent not in info.legend
    # shelters are labelled with their capacity
    assert "阳光广场\n容纳 1,200 人" in info.labels
    assert "阳光小学操场（备用）\n容纳 900 人" in info.labels
    assert "社区卫生服务站" in info.labels and "中石化加油站" in info.labels


def test_layers_left_out_are_not_drawn_nor_in_the_legend():
    data = sample(clinics=[], fire_stations=[], supply_points=[], risk_points=[], routes=[], hazard_zones=[])
    _, info = render.render_bytes(data, "png", dpi=72)
    for key in ("clinics", "fire_stations", "supply_points", "risk_points", "routes", "hazard_zones"):
        assert info.counts.get(key, 0) == 0
    assert not {"医疗点/卫生站", "消防站/微型消防站", "应急物资点", "加油站"} & set(info.legend)
    assert not any(e.startswith("洪涝") for e in info.legend)


def test_scale_is_true_at_the_latitude():
    """The same 600 m × 400 m community gives the same paper scale at the equator and at 60° N;
    a map drawn in plain degrees would make the northern one half as wide."""
    south = sample(lon0=100.0, lat0=0.5)
    north = sample(lon0=100.0, lat0=60.0)
    _, a = render.render_bytes(south, "png", dpi=50)
    _, b = render.render_bytes(north, "png", dpi=50)
    assert a.scale == pytest.approx(b.scale, rel=0.02)
    # the frame (about 304 mm wide) holds the 600 m community plus margins: 1:2,000–1:3,000
    assert 2000 < a.scale < 3000
    assert a.scale_bar_m in (50, 100, 200, 250, 500)


def test_nice_scale_bar_lengths():
    assert style.nice_length(180) == 100
    assert style.nice_length(260) == 250
    assert style.nice_length(999) == 500
    assert style.nice_length(2100) == 2000
    assert style.nice_length(0) == 0


def test_road_classes():
    assert style.road_class("primary") == "major"
    assert style.road_class("primary_link") == "major"
    assert style.road_class("tertiary") == "secondary"
    assert style.road_class("footway") == "path"
    assert style.road_class("something_new") == "minor"


def test_missing_cjk_font_names_the_package(monkeypatch):
    monkeypatch.setattr(fonts.font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(fonts.font_manager, "findSystemFonts", lambda *a, **k: [])
    fonts.cjk_font.cache_clear()
    try:
        with pytest.raises(fonts.FontMissing, match="fonts-noto-cjk"):
            render.render_bytes(sample(), "png", dpi=50)
    finally:
        monkeypatch.undo()
        fonts.cjk_font.cache_clear()
    assert fonts.cjk_font()


def test_bad_format_and_empty_data():
    with pytest.raises(ValueError):
        render.render_bytes(sample(), "svg")
    with pytest.raises(ValueError):
        render.format_of("map.jpg")
    empty = RiskMapData(community="空社区", date=date(2026, 1, 1), version="v")
    with pytest.raises(ValueError, match="nothing to draw"):
        render.render_bytes(empty, "png", dpi=50)


def test_nearest_shelter_routes_follow_the_roads():
    # Two shelters: A is nearer as the crow flies, but only B is reachable along the roads quickly.
    lon0, lat0 = 118.79, 32.06
    kx, ky = 111_320.0 * math.cos(math.radians(lat0)), 110_950.0

    def p(x, y):
        return [lon0 + x / kx, lat0 + y / ky]

    roads = [
        (1, [[p(0, 0), p(300, 0)]], "residential"),  # building → B along the street
        (2, [[p(300, 0), p(300, 10)]], "service"),
        (3, [[p(0, 0), p(0, -500), p(-100, -500), p(-100, 60)]], "footway"),  # the long way round to A
    ]
    buildings = [(p(0, 0)[0], p(0, 0)[1], 30)]
    shelters = [(p(-100, 60)[0], p(-100, 60)[1], "A"), (p(300, 10)[0], p(300, 10)[1], "B")]
    routes = riskmap_data.nearest_shelter_routes(roads, buildings, shelters)
    assert len(routes) == 1 and routes[0].shelter == "B" and routes[0].persons == 30
    assert routes[0].coords[0] == buildings[0][:2] and tuple(routes[0].coords[-1]) == shelters[1][:2]
    # without any road: straight to the nearest
    straight = riskmap_data.nearest_shelter_routes([], buildings, shelters)
    assert straight[0].shelter == "A" and len(straight[0].coords) == 2


# ---- from the database ----------------------------------------------------------------------------------


def _map_world(engine, world) -> None:
    """Give community C1 an outline, buildings, roads, a flood zone, a shelter and resources."""
    place_world(engine, world)
    c1 = world.units["C1"]
    with transaction(engine) as s:
        s.execute(update(GridUnit).where(GridUnit.id == c1).values(geometry=json.dumps(square(100, 0, 400))))
        for key, (x, y) in (("B1", (0, 0)), ("B2", (200, 0))):
            s.execute(
                update(GridUnit).where(GridUnit.id == world.units[key]).values(geometry=json.dumps(square(x, y, 12)))
            )

        def feats(layer, items):
            space.import_features(
                s, SYSTEM, layer, c1, [{"properties": props, "geometry": geom} for props, geom in items]
            )

        feats(
            "roads",
            [
                ({"name": "阳光路", "kind": "residential"}, gj_line((-250, -50), (0, -50), (200, -50), (300, -50))),
                ({"kind": "footway"}, gj_line((0, 0), (0, -50))),
                ({"kind": "footway"}, gj_line((200, 0), (200, -50))),
                ({"name": "广场路", "kind": "service"}, gj_line((300, -50), (300, 100))),
            ],
        )
        feats(
            "shelters",
            [
                ({"name": "阳光广场", "kind": "square", "effective_area_m2": 1500, "exits": 2}, square(300, 120, 30)),
                ({"name": "河边绿地", "kind": "park", "effective_area_m2": 600, "exits": 2}, square(-200, 150, 20)),
            ],
        )
        feats(
            "hazard_zones",
            [({"name": "西侧积水区", "kind": "flood", "level": 3, "depth_class": "0.5-1"}, square(-200, 150, 50))],
        )
        feats(
            "risk_points",
            [({"name": "加油站", "kind": "petrol_station"}, {"type": "Point", "coordinates": ll(-100, 150)})],
        )
        feats(
            "features",
            [
                (
                    {"name": "阳光卫生站", "layer": "poi", "kind": "clinic"},
                    {"type": "Point", "coordinates": ll(100, 60)},
                ),
                (
                    {"name": "微型消防站", "layer": "poi", "kind": "fire_station"},
                    {"type": "Point", "coordinates": ll(400, -100)},
                ),
                (
                    {"name": "物资点", "layer": "poi", "kind": "supply_point"},
                    {"type": "Point", "coordinates": ll(250, 100)},
                ),
                ({"name": "小超市", "layer": "poi", "kind": "shop"}, {"type": "Point", "coordinates": ll(150, 60)}),
            ],
        )


def test_gather_reads_live_layers_and_the_flood_plan(engine, world):
    _map_world(engine, world)
    with transaction(engine) as s:
        data = riskmap_data.gather(s, SYSTEM, world.units["C1"])
    assert data.community == "阳光社区" and data.street == "测试街道"
    assert len(data.buildings) == 2 and len(data.roads) == 4
    assert [z.kind for z in data.hazard_zones] == ["flood"] and data.hazard_zones[0].depth_class == "0.5-1"
    assert [(s.name, s.capacity) for s in data.shelters] == [("阳光广场", 1000), ("河边绿地", 400)]
    # the green by the river lies in the flood zone: the map warns that it cannot be used then
    assert [bool(s.warning) for s in data.shelters] == [False, True] and "内涝" in data.shelters[1].warning
    assert [c.name for c in data.clinics] == ["阳光卫生站"]
    assert [f.name for f in data.fire_stations] == ["微型消防站"]
    assert [p.name for p in data.supply_points] == ["物资点"]  # the shop is not a resource
    assert [r.name for r in data.risk_points] == ["加油站"]
    # both buildings have people: the default flood scenario (everyone leaves) routes both to the square
    assert {r.shelter for r in data.routes} == {"阳光广场"}
    assert sum(r.persons for r in data.routes) > 0 and len(data.routes) == 2
    assert "洪涝" in data.routes_note
    # the version changes when any drawn row changes, and only then
    with transaction(engine) as s:
        again = riskmap_data.gather(s, SYSTEM, "阳光社区")
    assert again.version == data.version
    with transaction(engine) as s:
        sid = space.rows_of(s, SYSTEM, "shelters", world.units["C1"])[0].id
        space.update_feature(s, SYSTEM, "shelters", sid, {"effective_area_m2": 3000})
    with transaction(engine) as s:
        changed = riskmap_data.gather(s, SYSTEM, "C1")
    assert changed.version != data.version
    assert changed.shelters[0].capacity == 2000
    _, info = render.render_bytes(changed, "png", dpi=50)
    assert "阳光广场\n容纳 2,000 人" in info.labels
    assert any(t.startswith("河边绿地\n容纳 400 人\n※") for t in info.labels)


def test_routes_fall_back_to_nearest_shelter_without_a_network(engine, world):
    _map_world(engine, world)
    with transaction(engine) as s:
        for r in space.rows_of(s, SYSTEM, "roads", world.units["C1"]):
            space.delete_feature(s, SYSTEM, "roads", r.id)
    with transaction(engine) as s:
        data = riskmap_data.gather(s, SYSTEM, world.units["C1"])
    assert "最近" in data.routes_note
    # straight to the nearest open shelter: the green by the river (no plan, so no flood rule either)
    assert len(data.routes) == 2 and all(len(r.coords) == 2 for r in data.routes)
    assert sorted(r.shelter for r in data.routes) == ["河边绿地", "阳光广场"]  # B1 west, B2 east


def test_pages_serve_pdf_and_png(client, engine, world):
    _map_world(engine, world)
    c1 = world.units["C1"]
    h = login(client, "secretary")
    r = client.get(f"/space/riskmap/{c1}.pdf", headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert "inline" in r.headers["content-disposition"] and r.headers["cache-control"] == "no-store"
    version = r.headers["x-data-version"]
    assert len(version) == 8
    again = client.get(f"/space/riskmap/{c1}.pdf", headers=h)
    assert again.headers["x-data-version"] == version and again.content == r.content  # unchanged data, same sheet
    sid = client.get("/api/v1/space/shelters", params={"community": c1, "q": "阳光广场"}, headers=h).json()["items"][0]
    assert client.patch(f"/api/v1/space/shelters/{sid['id']}", json={"effective_area_m2": 2400}, headers=h).is_success
    fresh = client.get(f"/space/riskmap/{c1}.pdf", headers=h)
    assert fresh.headers["x-data-version"] != version and fresh.content != r.content
    r = client.get(f"/space/riskmap/{c1}.png", params={"dpi": 100, "download": 1}, headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert "attachment" in r.headers["content-disposition"]
    w, h = Image.open(io.BytesIO(r.content)).size
    assert abs(w - 420 / 25.4 * 100) < 1 and abs(h - 297 / 25.4 * 100) < 1
    # the street above, the grid worker inside and the community's volunteers may print it too
    for user in ("street", "gridworker1", "volunteer1"):
        assert client.get(f"/space/riskmap/{c1}.png?dpi=72", headers=login(client, user)).status_code == 200


@pytest.mark.parametrize(
    ("user", "status"),
    [("resident1", 403), ("staff2", 403), ("admin", 403)],
)
def test_pages_refuse_who_may_not_print(client, engine, world, user, status):
    _map_world(engine, world)
    r = client.get(f"/space/riskmap/{world.units['C1']}.pdf", headers=login(client, user))
    assert r.status_code == status, r.text


def test_pages_bad_input(client, engine, world):
    _map_world(engine, world)
    h = login(client, "secretary")
    c1 = world.units["C1"]
    assert client.get("/space/riskmap/999999.pdf", headers=h).status_code == 404
    assert client.get(f"/space/riskmap/{world.units['B1']}.pdf", headers=h).status_code == 404  # not a community
    for bad in ("1000", "abc"):
        r = client.get(f"/space/riskmap/{c1}.png", params={"dpi": bad}, headers=h)
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]][-1] == "dpi"
    assert client.get(f"/space/riskmap/{c1}.pdf").status_code == 401
    # a community with nothing on the map yet: a 422 naming it, not a blank sheet or a 500
    r = client.get(f"/space/riskmap/{world.units['C2']}.pdf", headers=login(client, "staff2"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "community"


def test_cli_writes_pdf_and_png(engine, world, monkeypatch, tmp_path):
    from renxing.cli import app

    _map_world(engine, world)
    monkeypatch.setattr("renxing.cli.get_engine", lambda url=None: engine)
    monkeypatch.setattr("renxing.migrate.upgrade", lambda engine=None, revision="head": None)
    runner = CliRunner()
    pdf = tmp_path / "map.pdf"
    res = runner.invoke(app, ["riskmap", "阳光社区", "--out", str(pdf)])
    assert res.exit_code == 0, res.output
    assert pdf.read_bytes().startswith(b"%PDF") and "阳光社区" in res.output
    png = tmp_path / "map.png"
    res = runner.invoke(app, ["riskmap", str(world.units["C1"]), "--out", str(png), "--dpi", "72"])
    assert res.exit_code == 0, res.output
    w, h = Image.open(png).size
    assert abs(w - 420 / 25.4 * 72) < 1 and abs(h - 297 / 25.4 * 72) < 1
    bad = runner.invoke(app, ["riskmap", "没有这个社区", "--out", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 1 and not (tmp_path / "x.pdf").exists()
    wrong = runner.invoke(app, ["riskmap", "C1", "--out", str(tmp_path / "x.svg")])
    assert wrong.exit_code == 2
