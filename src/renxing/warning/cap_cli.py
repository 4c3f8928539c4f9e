"""``renxing cap …``: CAP 1.2 alerts from the command line.

``renxing cap import FILE|URL … [--dry-run]`` receives each message in a transaction of its own
and prints its identifier, status and type, its colour and the communities it matches; a refused
message names the offending element. Exit status: 0 all accepted (duplicates included), 1 one
or more refused, 2 one or more could not be read. ``renxing cap poll`` polls the feeds that are due.
"""

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from renxing.auth.principal import SYSTEM
from renxing.db import get_engine, transaction
from renxing.errors import Invalid
from renxing.i18n import _
from renxing.warning import cap_schema, feeds, incoming

app = typer.Typer(help="CAP 1.2 alerts from the command line.", no_args_is_help=True)
console = Console(highlight=False)

REFUSED, UNREADABLE = 1, 2


def _read(source: str) -> bytes:
    """The bytes of a file or an http(s) address; raises OSError or FetchError."""
    if source.startswith(("http://", "https://")):
        return feeds.fetch(feeds.check_url(source), limit=cap_schema.MAX_BYTES).body
    path = Path(source)
    if path.stat().st_size > cap_schema.MAX_BYTES:
        raise OSError(f"larger than {cap_schema.MAX_BYTES} bytes")
    return path.read_bytes()


def _print(source: str, got: incoming.Received) -> None:
    verdict = _("试运行") if got.dry_run else _("重复，未保存") if got.duplicate else _("已接收")
    head = f"{got.status} {got.msg_type}  {got.level or '-'}  [{verdict}]"
    console.print(f"[bold]{escape(got.identifier)}[/bold]  {escape(head)}")
    console.print(f"  {escape(got.headline)}  ({escape(source)})")
    if got.communities:
        names = ", ".join(f"{c['name']} ({c['how']})" for c in got.communities)
        console.print("  " + _("匹配社区：{names}").format(names=escape(names)))
    else:
        console.print("  " + _("没有匹配的社区"))
    for ref in got.references:
        state = ref["state"] or _("未收到")
        console.print("  " + _("引用 {identifier}：{state}").format(identifier=escape(ref["identifier"]), state=state))
    for note in got.notes:
        console.print(f"  [yellow]{escape(note)}[/yellow]")


@app.command("import")
def import_command(
    sources: list[str] = typer.Argument(..., help="CAP files or http(s) addresses"),
    dry_run: bool = typer.Option(False, "--dry-run", help="read, check and match, but store nothing"),
) -> None:
    """Receive CAP 1.2 alerts from files or addresses; print what each matches."""
    engine = get_engine()
    status = 0
    for source in sources:
        try:
            data = _read(source)
        except (OSError, feeds.FetchError, Invalid) as exc:
            console.print(f"[red]{escape(source)}: {escape(str(exc))}[/red]")
            status = max(status, UNREADABLE)
            continue
        try:
            with transaction(engine) as session:
                got = incoming.receive(session, SYSTEM, data, source="cli", dry_run=dry_run)
        except Invalid as exc:
            console.print(f"[red]{escape(source)}: {escape(exc.message)}[/red]")
            for error in exc.errors:
                console.print(f"  [red]{escape(error.field)}[/red]: {escape(error.message)}")
            status = max(status, REFUSED)
            continue
        _print(source, got)
    if status:
        raise typer.Exit(status)


@app.command("poll")
def poll_command() -> None:
    """Poll the alert feeds that are due once (the web process does it on its schedule)."""
    results = feeds.run(get_engine())
    if not results:
        console.print(_("没有到期的订阅源"))
    for r in results:
        line = _("订阅源 {feed_id}：{entries} 条，新收 {received}，重复 {duplicates}，拒收 {refused}，跳过 {skipped}")
        console.print(
            line.format(
                feed_id=r.feed_id,
                entries=r.entries,
                received=r.received,
                duplicates=r.duplicates,
                refused=r.refused,
                skipped=r.skipped,
            )
            + (" " + _("（未变化）") if r.unchanged else "")
        )
        if r.error:
            console.print(f"  [yellow]{escape(r.error)}[/yellow]")
