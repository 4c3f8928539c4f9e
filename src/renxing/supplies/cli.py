"""``renxing supplies …``: the cloud warehouse from the command line."""

from datetime import datetime

import typer
from rich.console import Console

from renxing.db import get_engine
from renxing.i18n import _
from renxing.supplies import reminders

app = typer.Typer(help="The cloud warehouse of emergency supplies.", no_args_is_help=True)
console = Console()


# ---- renewal reminders --------------------------------------------------------------------------


@app.command("remind")
def remind_command(
    today: datetime | None = typer.Option(None, "--today", formats=["%Y-%m-%d"], help="remind as of this day"),
) -> None:
    """Remind staff and partners of agreements ending within 30 days (once per end date)."""
    count = reminders.run(get_engine(), today.date() if today else None)
    console.print(_("已提醒 {count} 份即将到期的协议").format(count=count))
