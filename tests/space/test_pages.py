"""The risk map and evacuation pages render for staff, refuse others, and the plan exports to Excel."""

import io
import json
import re

from openpyxl import load_workbook

from renxing.config import get_settings
from renxing.db import transaction
from renxing.space.models import EvacScenario
from tests.kit.client import login, page_login
from tests.kit.space_plan_world import build_plan_world
from tests.kit.space_world import place_world


def config_of(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="space-config">(.*?)</script>', html, re.S)
    assert m, "no space-config on the page"
    return json.loads(m.group(1))


def test_risk_map_for_staff(client, world, engine):
    build_plan_world(engine, world)
    page_login(client, "secretary")
    r = client.get("/space", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/space/{world.units['C1']}"
    r = client.get(f"/space/{world.units['C1']}")
    assert r.status_code == 200
    assert "风险地图" in r.text and "阳光社区" in r.text
    assert 'href="/space/evacuation?community=' in r.text
    assert f"/space/riskmap/{world.units['C1']}.pdf" in r.text and f"/space/riskmap/{world.units['C1']}.png" in r.text
    cfg = config_of(r.text)
    keys = [ly["key"] for ly in cfg["layers"]]
    assert keys == [
        "hazard_zones",
        "risk_points",
        "passages",
        "reserved_land",
        "shelters",
        "roads",
        "buildings",
        "pois",
    ]
    assert cfg["canWrite"] is True and cfg["crs"] == "wgs84" and cfg["basemap"] is None
    assert cfg["bounds"] is not None
    buildings = next(ly for ly in cfg["layers"] if ly["key"] == "buildings")
    assert {f["properties"]["name"] for f in buildings["inline"]["features"]} == {"1栋", "2栋"}
    # Every layer URL the page draws answers with GeoJSON for this user.
    for ly in cfg["layers"]:
        g = client.get(ly["url"])
        assert g.status_code == 200, (ly["url"], g.text)
        assert g.json()["type"] == "FeatureCollection"
    shelters = client.get(next(ly["url"] for ly in cfg["layers"] if ly["key"] == "shelters")).json()
    assert len(shelters["features"]) == 4
    assert "风险地图" in client.get("/").text  # the nav link
    en = client.get(f"/space/{world.units['C1']}?lang=en").text
    assert "Risk map" in en and "Evacuation plan" in en


def test_risk_map_with_a_gcj02_basemap(client, world, engine, monkeypatch):
    build_plan_world(engine, world)
    monkeypatch.setenv("RENXING_BASEMAP_URL", "https://tiles.example/{z}/{x}/{y}.png")
    monkeypatch.setenv("RENXING_BASEMAP_CRS", "gcj02")
    get_settings.cache_clear()
    try:
        page_login(client, "secretary")
        cfg = config_of(client.get(f"/space/{world.units['C1']}").text)
    finally:
        get_settings.cache_clear()
    assert cfg["basemap"]["url"].startswith("https://tiles.example/")
    assert cfg["crs"] == "gcj02"
    assert all("crs=gcj02" in ly["url"] for ly in cfg["layers"])
    b1 = next(f for f in cfg["layers"][6]["inline"]["features"] if f["properties"]["name"] == "1栋")
    lon = b1["geometry"]["coordinates"][0]
    # GCJ-02 is several hundred metres off WGS-84 around Nanjing.
    assert abs(lon - 118.79) > 0.003


def test_risk_map_for_other_roles(client, world, engine):
    build_plan_world(engine, world)
    c1 = world.units["C1"]
    # Not logged in: to the login page.
    r = client.get(f"/space/{c1}", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    # A volunteer sees the map but cannot edit it or plan.
    page_login(client, "volunteer1")
    r = client.get(f"/space/{c1}")
    assert r.status_code == 200
    cfg = config_of(r.text)
    assert cfg["canWrite"] is False and "to-evacuation" not in r.text
    assert client.get("/space/evacuation", headers={"Accept": "text/html"}).status_code == 403
    # A resident sees only the public layers: shelters and hazard zones.
    page_login(client, "resident1")
    cfg = config_of(client.get(f"/space/{c1}").text)
    assert [ly["key"] for ly in cfg["layers"]] == ["hazard_zones", "shelters"]
    # Staff of another community, and the system administrator.
    page_login(client, "staff2")
    assert client.get(f"/space/{c1}", headers={"Accept": "text/html"}).status_code == 403
    assert client.get(f"/space/evacuation?community={c1}", headers={"Accept": "text/html"}).status_code == 403
    page_login(client, "admin")
    assert client.get(f"/space/{c1}", headers={"Accept": "text/html"}).status_code == 403
    assert client.get("/space/99999", headers={"Accept": "text/html"}).status_code == 403


def test_evacuation_page_plan_whatif_and_export(client, world, engine):
    pw = build_plan_world(engine, world)
    c1 = world.units["C1"]
    page_login(client, "secretary")
    r = client.get(f"/space/evacuation?community={c1}")
    assert r.status_code == 200
    assert "计算疏散方案" in r.text and "plan-table" not in r.text
    for name in ("一苑低洼积水区", "幸福路东段", "阳光小学操场", "幸福公园"):
        assert name in r.text
    zones = f"zones={pw.zones['flood_b1']}&zones={pw.zones['flood_east']}"
    r = client.get(f"/space/evacuation?community={c1}&{zones}&run=1")
    assert r.status_code == 200
    html = r.text
    assert 'id="plan-table"' in html and f'data-building="{world.units["B1"]}"' in html
    # The map's data: the hit building, and the flooded road drawn as cut.
    plan = json.loads(re.search(r'id="plan-data">(.*?)</script>', html, re.S).group(1))
    assert [b["name"] for b in plan["buildings"]] == ["1栋"]
    assert [(c["name"], c["reason"]) for c in plan["cut_roads"]] == [("幸福路东段", "flooded")]
    # What if the school opened?
    r = client.get(f"/space/evacuation?community={c1}&all=1&run=1&whatif={pw.shelters['school']}")
    assert r.status_code == 200
    assert 'id="whatif"' in r.text and 'id="gains"' in r.text
    gains = re.search(r'<table class="table" id="gains">(.*?)</table>', r.text, re.S).group(1)
    assert "1栋" in gains
    assert 'id="plan-map-base"' in r.text and 'id="plan-map-alt"' in r.text
    # Siting.
    r = client.get(f"/space/evacuation?community={c1}&all=1&k=1")
    assert f'data-sited="{pw.shelters["school"]}"' in r.text
    # Excel export of the plan table.
    r = client.get(f"/space/evacuation/plan.xlsx?community={c1}&all=1")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "楼栋" and "避难场所" in rows[0]
    assert {row[0] for row in rows[1:]} == {"1栋", "2栋"}
    unplaced_col = rows[0].index("未安置")
    assert sum(row[unplaced_col] or 0 for row in rows[1:]) == 1


def test_evacuation_page_bad_input_and_saving(client, world, engine):
    pw = build_plan_world(engine, world)
    c1 = world.units["C1"]
    page_login(client, "secretary")
    r = client.get(f"/space/evacuation?community={c1}&zones=abc&run=1")
    assert r.status_code == 422 and 'data-error-field="hazard_zone_ids"' in r.text
    r = client.get(f"/space/evacuation?community={c1}&cut=999999&run=1")
    assert r.status_code == 422 and 'data-error-field="cut_road_ids"' in r.text
    r = client.get(f"/space/evacuation?community={c1}&whatif={pw.shelters['park']}")
    assert r.status_code == 422 and 'data-error-field="open_candidates"' in r.text
    r = client.get(f"/space/evacuation?scenario={10**15}")
    assert r.status_code == 422 and 'data-error-field="scenario"' in r.text
    # Save the scenario from the page; it then opens with its plan.
    page = client.get(f"/space/evacuation?community={c1}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post(
        "/space/evacuation/scenarios",
        data={"csrf_token": token, "community": c1, "name": "暴雨内涝", "zones": [pw.zones["flood_b1"]]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.get(r.headers["location"])
    assert r.status_code == 200 and 'id="plan-table"' in r.text and "暴雨内涝" in r.text
    sid = int(re.search(r"scenario=(\d+)", str(r.url)).group(1))
    with transaction(engine) as s:
        saved = s.get(EvacScenario, sid).plan_fingerprint
    assert saved
    # Trying a variation of the saved scenario on the page leaves its stored plan alone.
    r = client.get(f"/space/evacuation?community={c1}&scenario={sid}&edit=1&all=1&run=1")
    assert r.status_code == 200 and 'id="plan-table"' in r.text
    assert len(re.findall(r"<tr data-building=", r.text.split('id="plan-table"')[1])) == 2
    with transaction(engine) as s:
        assert s.get(EvacScenario, sid).plan_fingerprint == saved
    r = client.post(
        "/space/evacuation/scenarios",
        data={"csrf_token": token, "community": c1, "name": ""},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 422
    r = client.post("/space/evacuation/scenarios", data={"csrf_token": "wrong", "community": c1, "name": "x"})
    assert r.status_code == 403
    # A grid worker reads plans but has no save form.
    page_login(client, "gridworker1")
    r = client.get(f"/space/evacuation?community={c1}&all=1&run=1")
    assert r.status_code == 200 and 'id="save-scenario"' not in r.text and 'id="plan-table"' in r.text
    h = login(client, "gridworker1")
    assert client.get("/api/v1/space/scenarios", headers=h).status_code == 200


def test_evacuation_page_without_roads_says_so(client, world, engine):
    place_world(engine, world)
    page_login(client, "secretary")
    r = client.get(f"/space/evacuation?community={world.units['C1']}&all=1&run=1")
    assert r.status_code == 422
    assert 'data-error-field="roads"' in r.text and 'id="scenario-form"' in r.text
