"""Command-line parts of the space domain: ``renxing coords`` and ``renxing import osm|geojson``."""

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from renxing.geo.coords import UnknownCRS, convert
from renxing.i18n import _


def coords_command(
    lon: float = typer.Argument(..., help="longitude"),
    lat: float = typer.Argument(..., help="latitude"),
    src: str = typer.Option("wgs84", "--from", help="wgs84, gcj02 or bd09"),
    dst: str = typer.Option("gcj02", "--to", help="wgs84, gcj02 or bd09"),
    places: int = typer.Option(8, "--places", help="decimal places printed"),
) -> None:
    """Convert one point between WGS-84, GCJ-02 and BD-09; prints `LON LAT`."""
    try:
        x, y = convert(lon, lat, src, dst)
    except UnknownCRS as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{x:.{places}f} {y:.{places}f}")


def _progress(console: Console) -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console, transient=True)


def register(app: typer.Typer, import_app: typer.Typer, console: Console) -> None:
    """Add the space commands to the ``renxing`` command and its ``import`` group."""
    # A negative coordinate (-74.0) is not an option: tokens click cannot match to an option are
    # left for the arguments, and anything that is not a number then fails as an invalid float.
    app.command("coords", context_settings={"ignore_unknown_options": True})(coords_command)

    @import_app.command("osm")
    def import_osm(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help=".osm, .osm.pbf"),
        community: int = typer.Option(..., "--community", help="the community (grid unit id) the data belongs to"),
        replace: bool = typer.Option(False, "--replace", help="first delete the community's OSM-imported rows"),
    ) -> None:
        """Import roads, buildings and POIs from an OpenStreetMap extract: all or nothing."""
        from renxing.space import osm_import

        with _progress(console) as bar:
            task = bar.add_task(f"OSM {file.name}", total=None)

            def tick(stage: str, done: int, total: int | None) -> None:
                bar.update(task, description=f"{stage} {file.name}", completed=done, total=total)

            result = osm_import.run_cli_import(file, community, replace=replace, progress=tick, console=console)
        if result is None:
            raise typer.Exit(1)
        console.print(
            "[green]"
            + _("已导入")
            + "[/green] "
            + _("道路 {roads} 条，建筑 {buildings} 栋，兴趣点 {pois} 个").format(
                roads=result.roads, buildings=result.buildings, pois=result.pois
            )
        )

    @import_app.command("geojson")
    def import_geojson(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help=".geojson / .json"),
        layer: str = typer.Option(..., "--layer", help="hazard_zones, shelters, roads, ..."),
        community: int = typer.Option(..., "--community", help="the community (grid unit id)"),
        crs: str | None = typer.Option(
            None, "--crs", help="wgs84, gcj02 or bd09 (default: the crs member, else wgs84)"
        ),
    ) -> None:
        """Import a GeoJSON FeatureCollection into one layer, converting to WGS-84: all or nothing."""
        from renxing.space import geojson_io

        count = geojson_io.run_cli_import(file, layer, community, crs, console=console)
        if count is None:
            raise typer.Exit(1)
        console.print(
            "[green]" + _("已导入") + "[/green] " + _("{count} 个要素 → {layer}").format(count=count, layer=layer)
        )
