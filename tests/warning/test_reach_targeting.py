"""Which buildings lie inside a warned area (pure): edges, holes, unplaced buildings, bad areas."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from renxing.warning import targeting


def box(x0, y0, x1, y1, hole=None):
    rings = [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]
    if hole:
        a, b, c, d = hole
        rings.append([[a, b], [c, b], [c, d], [a, d], [a, b]])
    return json.dumps({"type": "Polygon", "coordinates": rings})


def test_buildings_inside_on_the_edge_or_unplaced():
    area = targeting.area_of(box(0, 0, 10, 10, hole=(4, 4, 6, 6)))
    places = [
        targeting.Place(1, 1, 1),  # inside
        targeting.Place(2, 10, 5),  # on the edge: warned
        targeting.Place(3, 5, 5),  # in the hole: not
        targeting.Place(4, 11, 5),  # outside
        targeting.Place(5, None, None),  # unplaced
    ]
    assert targeting.chosen(places, area, keep_unlocated=False) == [1, 2]
    assert targeting.chosen(places, area, keep_unlocated=True) == [1, 2, 5]
    assert targeting.chosen(places, None, keep_unlocated=False) == [1, 2, 3, 4, 5]


def test_an_area_is_a_polygon_a_feature_or_made_valid():
    feature = json.dumps({"type": "Feature", "properties": {}, "geometry": json.loads(box(0, 0, 1, 1))})
    assert targeting.area_of(feature).area == pytest.approx(1)
    bowtie = json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]})
    assert targeting.area_of(bowtie).area == pytest.approx(2)  # two triangles, not a crossing ring
    for bad in ("not json", json.dumps({"type": "Point", "coordinates": [1, 2]}), "{}"):
        with pytest.raises(targeting.BadArea):
            targeting.area_of(bad)


@given(st.lists(st.tuples(st.floats(-2, 12), st.floats(-2, 12)), max_size=60))
def test_the_vectorised_test_agrees_with_one_point_at_a_time(points):
    from shapely.geometry import Point

    area = targeting.area_of(box(0, 0, 10, 10, hole=(4, 4, 6, 6)))
    lons = np.array([p[0] for p in points], dtype=float)
    lats = np.array([p[1] for p in points], dtype=float)
    expected = [area.intersects(Point(x, y)) for x, y in points]
    assert targeting.inside(area, lons, lats).tolist() == expected
