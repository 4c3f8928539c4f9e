"""The ``renxing`` command: database, demo, serving, users, imports."""

import os
import time
from pathlib import Path

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from renxing import migrate
from renxing.apikeys import service as apikeys
from renxing.app import create_app
from renxing.auth import service as auth_service
from renxing.auth.permissions_doc import render as render_permissions
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM
from renxing.config import get_settings
from renxing.db import get_engine, transaction
from renxing.demo.build import DEMO_ACCOUNTS, DEMO_PASSWORD, build_demo
from renxing.errors import FieldError, ServiceError
from renxing.events.sweep import run_sweep
from renxing.i18n import _, set_lang, use_lang
from renxing.people import exporter, importer
from renxing.people.cli import privacy_app
from renxing.sensors.cli import app as sensors_app
from renxing.signals.cli import signals_app
from renxing.space.cli import register as register_space_commands
from renxing.supplies.cli import app as supplies_app
from renxing.warning.cap_cli import app as cap_app
from renxing.warning.cli import app as warning_app

app = typer.Typer(help="韧性 Renxing — resilient governance of urban communities", no_args_is_help=True)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
user_app = typer.Typer(help="User accounts", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(privacy_app, name="privacy")
app.add_typer(signals_app, name="signals")
app.add_typer(supplies_app, name="supplies")
app.add_typer(sensors_app, name="sensors")
app.add_typer(cap_app, name="cap")
app.add_typer(warning_app, name="warning")
console = Console()


@app.callback()
def _language() -> None:
    # Messages in RENXING_LANG (zh or en; Chinese when unset), like a page's ?lang=.
    set_lang(os.environ.get("RENXING_LANG"))


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    migrate.upgrade(get_engine(), revision)
    console.print(f"[green]database at {revision}[/green]: {get_settings().database_url}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="target revision, or 'base'")) -> None:
    """Undo migrations down to REVISION."""
    migrate.downgrade(get_engine(), revision)
    console.print(f"[yellow]database at {revision}[/yellow]")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve an existing database (migrated to the newest schema first)."""
    console.print(f"Renxing at [bold]http://{host}:{port}[/bold]  (API docs: /api/v1/docs)")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@app.command()
def demo(
    seed: int = typer.Option(2023, help="the same seed builds the same street"),
    scale: float = typer.Option(1.0, help="share of the ~37,000 residents to generate, e.g. 0.1"),
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="serve the demo once built"),
    host: str = "127.0.0.1",
    port: int = 8000,
    fresh: bool = typer.Option(True, "--fresh/--keep", help="empty the database first (deletes a SQLite file)"),
) -> None:
    """Build the demo street (five communities in Nanjing) into RENXING_DATABASE_URL, then serve it."""
    engine = get_engine()
    url = engine.url
    if fresh and url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(url.database + suffix).unlink(missing_ok=True)
    elif fresh:
        migrate.downgrade(engine, "base")
    migrate.upgrade(engine)
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(_("生成演示数据"), total=None)
            summary = build_demo(
                engine,
                seed=seed,
                scale=scale,
                progress=lambda label, done, total: bar.update(task, description=label, completed=done, total=total),
            )
    except ServiceError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    places = Table(title=f"{summary.street}  (seed {seed}, scale {scale}, {summary.seconds} s)")
    places.add_column(_("社区"))
    places.add_column(_("类型"))
    for head in (_("居民"), _("户"), _("楼栋"), _("60岁以上"), _("独居")):
        places.add_column(head, justify="right")
    for c in summary.communities:
        counts = (c.residents, c.households, c.buildings)
        places.add_row(c.name, c.kind_label, *map(str, counts), f"{c.aged60_share:.1%}", str(c.living_alone))
    places.add_row(_("合计"), "", str(summary.residents), str(summary.households), str(summary.buildings), "", "")
    console.print(places)
    names = {username: display for username, _role, display in summary.accounts}
    accounts = Table(title=_("演示账号 — 密码：{password}").format(password=DEMO_PASSWORD))
    for head in (_("用户名"), _("角色"), _("姓名"), _("说明")):
        accounts.add_column(head)
    for username, role, zh, en in DEMO_ACCOUNTS:
        accounts.add_row(username, role, names.get(username, ""), f"{zh} / {en}")
    console.print(accounts)
    if serve_after:
        serve(host=host, port=port)
    else:
        console.print("[green]" + _("完成") + f"[/green]: renxing serve → http://{host}:{port}")


@user_app.command("create")
def user_create(
    username: str,
    role: Role = typer.Option(..., help="one of the roles"),
    name: str = typer.Option("", help="display name"),
    scope: list[int] = typer.Option([], help="grid unit id in scope; repeat for more"),
    resident_id: int | None = typer.Option(None, help="for a resident account: the resident"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create a user account."""
    migrate.upgrade(get_engine())
    with transaction(get_engine()) as session:
        user = auth_service.create_user(
            session,
            SYSTEM,
            username=username,
            password=password,
            role=role,
            display_name=name or username,
            scope_unit_ids=scope,
            resident_id=resident_id,
        )
        console.print(f"[green]created[/green] {user.username} ({role.value})")


# ---- Excel in and out ------------------------------------------------------------------

import_app = typer.Typer(help="Import buildings or residents from .xlsx/.csv: all rows or none", no_args_is_help=True)
export_app = typer.Typer(help="Export lists to .xlsx", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
_FILE = typer.Argument(..., exists=True, dir_okay=False, readable=True, help=".xlsx or .csv")
_DRY_RUN = typer.Option(False, "--dry-run", help="check the file and report, write nothing")
register_space_commands(app, import_app, console)  # coords, import osm, import geojson


def _print_errors(title: str, errors: list[FieldError], style: str) -> None:
    table = Table(title=title, title_style=style, show_lines=False)
    table.add_column(_("行"), justify="right")
    table.add_column(_("列"))
    table.add_column(_("值"))
    table.add_column(_("原因"), overflow="fold")
    for e in errors:
        table.add_row("" if e.row is None else str(e.row), e.field, e.value or "", e.message)
    console.print(table)


def _run_import(kind: importer.ImportKind, path: Path, dry_run: bool) -> None:
    data = path.read_bytes()
    engine = get_engine()
    migrate.upgrade(engine)
    mode = importer.Mode.preview if dry_run else importer.Mode.commit
    report: importer.ImportReport | None = None
    failure: ServiceError | None = None
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"{'校验' if dry_run else '导入'} {path.name}", total=None)
        try:
            with transaction(engine) as session:
                report = importer.import_file(
                    session,
                    SYSTEM,
                    kind,
                    path.name,
                    data,
                    mode=mode,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        except ServiceError as exc:  # the transaction is rolled back: nothing was written
            failure = exc
    if failure is not None:
        if failure.errors:
            _print_errors(_("{count} 处错误").format(count=len(failure.errors)), failure.errors, "bold red")
        console.print(f"[red]{failure.message}[/red]")
        raise typer.Exit(1)
    assert report is not None
    if report.warnings:
        _print_errors(_("提示"), report.warnings, "yellow")
    if report.errors:
        _print_errors(_("{count} 处错误").format(count=len(report.errors)), report.errors, "bold red")
        bad = len({e.row for e in report.errors})
        console.print(
            "[red]"
            + _("文件无效，未写入任何数据")
            + "[/red]: "
            + _("{rows_read} 行中 {bad} 行有错").format(rows_read=report.rows_read, bad=bad)
        )
        raise typer.Exit(1)
    if kind is importer.ImportKind.residents:
        counts = _("居民 {created_residents} 人，新建户 {created_households} 户").format(
            created_residents=report.created_residents, created_households=report.created_households
        )
    else:
        counts = _("楼栋 {created_buildings} 栋").format(created_buildings=report.created_buildings)
    if dry_run:
        console.print("[green]" + _("文件有效，未写入") + "[/green]: " + _("将导入 {counts}").format(counts=counts))
    else:
        console.print("[green]" + _("已导入") + f"[/green] {counts}")


@import_app.command("residents")
def import_residents(file: Path = _FILE, dry_run: bool = _DRY_RUN) -> None:
    """Import residents (households are created as needed), acting as the system."""
    _run_import(importer.ImportKind.residents, file, dry_run)


@import_app.command("buildings")
def import_buildings(file: Path = _FILE, dry_run: bool = _DRY_RUN) -> None:
    """Import buildings into existing areas, acting as the system."""
    _run_import(importer.ImportKind.buildings, file, dry_run)


@export_app.command("residents")
def export_residents(
    out: Path = typer.Argument(..., dir_okay=False, help="the .xlsx to write"),
    unit_id: int | None = typer.Option(None, help="only this grid unit and below"),
    lang: str = typer.Option("zh", help="header language: zh or en"),
) -> None:
    """Export the resident register in the clear (audited as an export by the system)."""
    engine = get_engine()
    migrate.upgrade(engine)
    partial = out.with_name(out.name + ".part")  # written as it is read; in place only when complete
    try:
        with transaction(engine) as session, partial.open("wb") as f, use_lang(lang):
            count = exporter.write_residents(session, SYSTEM, f, unit_id=unit_id)
    except ServiceError as exc:
        partial.unlink(missing_ok=True)
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    partial.replace(out)
    console.print("[green]" + _("已导出") + "[/green] " + _("{count} 居民 → {out}").format(count=count, out=out))


events_app = typer.Typer(help="The closed loop for risks", no_args_is_help=True)
app.add_typer(events_app, name="events")


@events_app.command("sweep")
def events_sweep(
    loop: float = typer.Option(0, "--loop", help="repeat every SECONDS (0: once)", metavar="SECONDS"),
) -> None:
    """Escalate overdue reports one level up the chain and auto-close unrated ones."""
    engine = get_engine()
    migrate.upgrade(engine)
    while True:
        result = run_sweep(engine)
        console.print(
            f"escalated {result.escalated}, closed {result.closed}, at the top {result.stopped} "
            f"in {result.seconds:.3f}s"
        )
        if loop <= 0:
            return
        time.sleep(loop)


apikey_app = typer.Typer(help="API keys for Open311 clients", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(name: str = typer.Argument(..., help="who holds the key, e.g. city-311-app")) -> None:
    """Issue an API key for NAME and print it: it is shown only this once."""
    engine = get_engine()
    migrate.upgrade(engine)
    try:
        with transaction(engine) as session:
            _row, secret = apikeys.create_key(session, SYSTEM, name)
    except ServiceError as exc:
        console.print(f"[red]{exc.message}[/red]", *(f"  {e.field}: {e.message}" for e in exc.errors), sep="\n")
        raise typer.Exit(1) from exc
    console.print("[green]" + _("已创建") + f"[/green] {name} — " + _("只显示这一次："))
    typer.echo(secret)


@apikey_app.command("list")
def apikey_list() -> None:
    """API keys (their first characters only), when they were last used and how often."""
    engine = get_engine()
    migrate.upgrade(engine)
    with transaction(engine) as session:
        rows = apikeys.list_keys(session, SYSTEM)
        table = Table(title=_("API 密钥"))
        for head in (_("名称"), _("前缀"), _("创建"), _("最近使用"), _("次数")):
            table.add_column(head)
        table.add_column(_("状态"))
        for k in rows:
            state = _("已吊销 {date}").format(date=f"{k.revoked_at:%Y-%m-%d}") if k.revoked_at else _("有效")
            last = f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "—"
            table.add_row(k.name, k.prefix + "…", f"{k.created_at:%Y-%m-%d}", last, str(k.use_count), state)
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(name: str) -> None:
    """Revoke the API key NAME: requests with it are refused from now on."""
    engine = get_engine()
    migrate.upgrade(engine)
    try:
        with transaction(engine) as session:
            apikeys.revoke_key(session, SYSTEM, name)
    except ServiceError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    console.print("[yellow]" + _("已吊销") + f"[/yellow] {name}")


@app.command("permissions")
def permissions_doc(out: Path = typer.Option(Path("docs/permissions.md"), help="where to write the page")) -> None:
    """Write the permission page from the permission table (role × permission, fields, settings)."""
    out.write_text(render_permissions(), encoding="utf-8")
    console.print(f"[green]written[/green] {out}")


@app.command("riskmap")
def riskmap_command(
    community: str = typer.Argument(..., help="the community: its id, code (QX-GH) or name (桂花园社区)"),
    out: Path = typer.Option(..., "--out", "-o", dir_okay=False, help="FILE.pdf (vector) or FILE.png"),
    dpi: int = typer.Option(150, help="PNG resolution (150–200 for print)"),
) -> None:
    """Draw the printable A3 community risk map (社区风险示意图) from live data."""
    from renxing.space import riskmap_data
    from renxing.space.riskmap.render import format_of

    try:
        fmt = format_of(out)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    engine = get_engine()
    migrate.upgrade(engine)
    stages = (_("读取图层"), _("疏散方案"), _("绘制地图"))
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar, transaction(engine) as session:
            task = bar.add_task(_("社区"), total=len(stages) + 1)

            def step(stage: str) -> None:
                bar.update(task, description=stage, completed=stages.index(stage) + 1 if stage in stages else 0)

            body, info, data = riskmap_data.render_community(session, SYSTEM, community, fmt, dpi=dpi, progress=step)
            bar.update(task, description=_("写出文件"), completed=len(stages) + 1)
    except ServiceError as exc:
        console.print(f"[red]{exc.message}[/red]")
        for e in exc.errors:
            console.print(f"  {e.field}: {e.message} {e.value or ''}")
        raise typer.Exit(1) from exc
    out.write_bytes(body)
    drawn = ", ".join(f"{k} {v}" for k, v in info.counts.items())
    done = _("{community}风险示意图").format(community=data.community)
    console.print("[green]" + _("已生成") + f"[/green] {done} → {out} ({len(body) // 1024} KB, A3)")
    console.print(
        _("数据版本 {version}；1:{scale:,}；{drawn}").format(version=data.version, scale=info.scale, drawn=drawn)
    )


def main() -> None:  # pragma: no cover
    app()
