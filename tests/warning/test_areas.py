"""Matching an alert's areas to communities (pure): polygons and circles in CAP's "lat,lon" order
against outlines or points, geocodes against administrative and the platform's own codes."""

from renxing.warning import areas
from renxing.warning.cap_read import Area, Circle
from tests.kit.events_world import box

C1 = areas.Place(1, "/9/1/", ("320106013001", "320106013"), box(118.78, 32.05, 118.80, 32.07), 118.79, 32.06)
C2 = areas.Place(2, "/9/2/", ("320106013002", "320106013"), None, 118.81, 32.06)  # no outline: its point
C3 = areas.Place(3, "/8/3/", ("QX-03", "QX"), box(118.70, 32.20, 118.72, 32.22), 118.71, 32.21)
PLACES = [C1, C2, C3]


def ring(*pairs: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    return (*pairs, pairs[0])


def hits(area: Area) -> dict[int, str]:
    return {m.unit_id: m.how for m in areas.match([area], PLACES)}


def test_a_polygon_in_lat_lon_order_reaches_the_community_it_overlaps():
    over_c1 = ring((32.052, 118.781), (32.052, 118.797), (32.068, 118.797), (32.068, 118.781))
    assert hits(Area("x", polygons=(over_c1,))) == {1: "polygon"}
    # The same numbers taken as lon,lat lie far away: nothing.
    swapped = tuple((lon, lat) for lat, lon in over_c1)
    assert hits(Area("x", polygons=(swapped,))) == {}
    # C2 has no outline: reached when the ring covers its point.
    both = ring((32.05, 118.785), (32.05, 118.815), (32.07, 118.815), (32.07, 118.785))
    assert hits(Area("x", polygons=(both,))) == {1: "polygon", 2: "polygon"}
    # Sharing only an edge with C1 is not reaching it.
    beside = ring((32.05, 118.80), (32.05, 118.805), (32.07, 118.805), (32.07, 118.80))
    assert hits(Area("x", polygons=(beside,))) == {}


def test_a_circle_is_kilometres_around_its_centre_and_radius_zero_is_a_point():
    assert hits(Area("x", circles=(Circle(32.06, 118.79, 0),))) == {1: "circle"}
    # 0.5 km east of C1's edge (118.80): reaches C1 with 1 km, not with 0.3 km.
    east = 118.80 + 0.5 / (111.32 * 0.8476)
    assert hits(Area("x", circles=(Circle(32.06, east, 1.0),))) == {1: "circle", 2: "circle"}
    assert hits(Area("x", circles=(Circle(32.06, east, 0.3),))) == {}
    assert hits(Area("x", circles=(Circle(32.06, 118.81, 0.05),))) == {2: "circle"}


def test_geocodes_match_administrative_prefixes_and_the_platform_s_codes():
    def by(name: str, value: str) -> dict[int, str]:
        return hits(Area("x", geocodes=((name, value),)))

    assert by("行政区划代码", "320106") == {1: "geocode", 2: "geocode"}  # the district
    assert by("GB/T 2260", "320100") == {1: "geocode", 2: "geocode"}  # the city 3201
    assert by("ADCODE", "320106013001") == {1: "geocode"}  # one community
    assert by("行政区划代码", "320106013000") == {1: "geocode", 2: "geocode"}  # the street, 12 digits
    assert by("行政区划代码", "110101") == {}
    assert by("renxing", "QX") == {3: "geocode"}  # a street of the platform: its communities
    assert by("renxing", "320106013002") == {2: "geocode"}
    assert by("SAME", "006109") == {}
    assert areas.unknown_geocodes([Area("x", geocodes=(("SAME", "006109"), ("adcode", "320106")))]) == ["SAME"]


def test_a_shape_wins_over_the_geocode_given_with_it():
    over_c1 = ring((32.052, 118.781), (32.052, 118.797), (32.068, 118.797), (32.068, 118.781))
    area = Area("x", polygons=(over_c1,), geocodes=(("行政区划代码", "320106"),))
    assert hits(area) == {1: "polygon"}
    assert areas.unknown_geocodes([area]) == []


def test_admin_prefixes():
    assert [areas.admin_prefix(c) for c in ("320000", "320100", "320106", "320106013", "320106013001")] == [
        "32",
        "3201",
        "320106",
        "320106013",
        "320106013001",
    ]
    assert areas.admin_prefix("QX-01") is None and areas.admin_prefix("1234") is None


def test_areas_as_geojson_for_the_map():
    over_c1 = ring((32.052, 118.781), (32.052, 118.797), (32.068, 118.797), (32.068, 118.781))
    shapes = areas.geojson(
        [Area("雨区", polygons=(over_c1,), circles=(Circle(32.06, 118.79, 1.0), Circle(32, 118, 0)))]
    )
    kinds = [(f["geometry"]["type"], f["properties"]["kind"]) for f in shapes["features"]]
    assert kinds == [("Polygon", "polygon"), ("Polygon", "circle"), ("Point", "circle")]
    assert shapes["features"][0]["geometry"]["coordinates"][0][0] == [118.781, 32.052]  # lon, lat
    assert shapes["features"][0]["properties"]["desc"] == "雨区"
