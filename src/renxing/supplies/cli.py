"""``renxing supplies …``: the cloud warehouse from the command line."""

from datetime import datetime

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from renxing.db import get_engine, transaction
from renxing.i18n import _
from renxing.supplies import reminders
from renxing.supplies.check import PROBLEM_LABELS, check
from renxing.supplies.models import StoragePoint, SupplyItem

app = typer.Typer(help="The cloud warehouse of emergency supplies.", no_args_is_help=True)
console = Console()


@app.command("check")
def check_command(
    show: int = typer.Option(50, "--show", min=0, help="differences to list (all are counted)"),
) -> None:
    """Recompute every balance from the ledger and compare; exit status 1 if any differs."""
    engine = get_engine()
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar, transaction(engine) as session:
        task = bar.add_task(_("核对库存余额"), total=None)
        result = check(session, progress=lambda done, total: bar.update(task, completed=done, total=total))
        shown = result.differences[:show]
        points = dict(session.execute(select(StoragePoint.id, StoragePoint.name)).all())
        items = dict(session.execute(select(SupplyItem.id, SupplyItem.code)).all())
    console.print(
        _("流水 {movements} 条，余额 {balances} 行，差异 {differences} 处，用时 {seconds:.2f} 秒").format(
            movements=result.movements,
            balances=result.balances,
            differences=len(result.differences),
            seconds=result.seconds,
        )
    )
    if result.clean:
        console.print("[green]" + _("余额与流水一致") + "[/green]")
        return
    table = Table(title=_("余额与流水不一致"), title_style="bold red")
    for head in (_("储备点"), _("物资"), _("批号"), _("问题"), _("流水合计"), _("余额")):
        table.add_column(head, no_wrap=True)
    table.add_column(_("储备点名称"), overflow="fold")
    for d in shown:
        table.add_row(
            str(d.point_id),
            items.get(d.item_id, str(d.item_id)),
            d.lot,
            str(PROBLEM_LABELS[d.problem]),
            "" if d.ledger is None else str(d.ledger),
            "" if d.balance is None else str(d.balance),
            points.get(d.point_id, ""),
        )
    console.print(table)
    if len(result.differences) > len(shown):
        console.print(_("另有 {n} 处未列出").format(n=len(result.differences) - len(shown)))
    raise typer.Exit(1)


# ---- renewal reminders --------------------------------------------------------------------------


@app.command("remind")
def remind_command(
    today: datetime | None = typer.Option(None, "--today", formats=["%Y-%m-%d"], help="remind as of this day"),
) -> None:
    """Remind staff and partners of agreements ending within 30 days (once per end date)."""
    count = reminders.run(get_engine(), today.date() if today else None)
    console.print(_("已提醒 {count} 份即将到期的协议").format(count=count))
