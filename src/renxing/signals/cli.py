"""``renxing signals``: deliver the outbox by hand, see what waits, print the event catalogue."""

import time
from datetime import timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from renxing import migrate
from renxing.db import get_engine, transaction, utcnow
from renxing.signals import outbox
from renxing.signals.bus import CatalogRow, bus, deliver_pending

signals_app = typer.Typer(help="Domain events: the outbox and the catalogue", no_args_is_help=True)
console = Console()


@signals_app.command("deliver")
def deliver_command(
    loop: float = typer.Option(0, "--loop", help="repeat every SECONDS (0: once)", metavar="SECONDS"),
) -> None:
    """Deliver every outbox row that is due (and retry e-mail and webhook sendings)."""
    engine = get_engine()
    migrate.upgrade(engine)
    while True:
        result = deliver_pending(engine)
        console.print(f"delivered {result.done}, failed {result.failed}")
        if loop <= 0:
            return
        time.sleep(loop)


@signals_app.command("status")
def status_command() -> None:
    """How many deliveries wait, how many of them failed, and the ones failing most."""
    with transaction(get_engine()) as session:
        now = outbox.status(session)
        failing = outbox.failing(session)
    console.print(f"pending {now.pending} (failing {now.failing}), done {now.done}")
    if now.oldest_pending_at is not None:
        console.print(f"oldest pending since {now.oldest_pending_at.isoformat()}")
    if failing:
        table = Table("id", "event", "subscriber", "attempts", "next try", "last error")
        for row in failing:
            table.add_row(
                str(row.id),
                row.event,
                row.subscriber,
                str(row.attempts),
                row.next_attempt_at.isoformat(),
                (row.last_error or "")[:80],
            )
        console.print(table)


@signals_app.command("purge")
def purge_command(days: int = typer.Option(30, help="keep deliveries done in the last DAYS")) -> None:
    """Forget deliveries done more than DAYS ago (pending ones are never removed)."""
    with transaction(get_engine()) as session:
        n = outbox.purge_delivered(session, utcnow() - timedelta(days=days))
    console.print(f"removed {n}")


def render(rows: list[CatalogRow]) -> str:
    """The catalogue as a Markdown table: name, publisher, subscribers with their mode, payload."""
    lines = ["| event | publisher | subscribers (mode) | payload |", "|---|---|---|---|"]
    for row in rows:
        subscribers = "<br>".join(f"`{name}` ({mode})" for name, mode in row.subscribers) or "—"
        fields = ", ".join(f"`{name}: {kind}`" for name, kind in row.fields).replace("|", "\\|")  # not a cell edge
        lines.append(f"| `{row.name}` | {row.publisher} | {subscribers} | {fields} |")
    lines.append("")
    lines += [f"- `{row.name}`: {row.doc}" for row in rows]
    return "\n".join(lines) + "\n"


@signals_app.command("catalog")
def catalog_command(out: Path | None = typer.Option(None, help="write to this file instead of printing")) -> None:
    """Every event with its publisher, subscribers and payload, as Markdown."""
    text = render(bus.catalog())
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
