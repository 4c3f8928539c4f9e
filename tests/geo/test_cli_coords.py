"""`renxing coords` takes negative longitudes and latitudes as numbers, not as options."""

from typer.testing import CliRunner

from renxing.cli import app

runner = CliRunner()


def _point(args: list[str]) -> tuple[float, float]:
    res = runner.invoke(app, ["coords", *args])
    assert res.exit_code == 0, res.output
    lon, lat = (float(v) for v in res.output.split())
    return lon, lat


def test_negative_longitude_outside_china_is_printed_unchanged():
    # New York: GCJ-02 only shifts points inside China, so the point comes back as it went in.
    assert _point(["-74.0", "40.7", "--from", "wgs84", "--to", "gcj02"]) == (-74.0, 40.7)
    assert _point(["--from", "wgs84", "--to", "gcj02", "-74.0060", "40.7128"]) == (-74.006, 40.7128)


def test_negative_latitude_and_both_negative():
    assert _point(["151.2093", "-33.8688", "--to", "bd09", "--from", "wgs84"]) == (151.2093, -33.8688)
    assert _point(["-58.3816", "-34.6037", "--places", "3"]) == (-58.382, -34.604)


def test_unknown_options_and_bad_numbers_still_fail():
    for args in (["-74.0", "40.7", "--bogus"], ["-74.0"], ["-x", "40.7"], ["1", "2", "--to", "mars"]):
        res = runner.invoke(app, ["coords", *args])
        assert res.exit_code != 0, (args, res.output)
