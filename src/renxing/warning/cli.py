"""``renxing warning …``: Early warning from the command line."""

import typer

app = typer.Typer(help="Early warning from the command line.", no_args_is_help=True)


@app.command("dispatch")
def dispatch_command(
    loop: float = typer.Option(0, "--loop", min=0, help="repeat every SECONDS (0: once)", metavar="SECONDS"),
) -> None:
    """Send the warnings' queued deliveries (and retry the failed ones that are due)."""
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from renxing.db import get_engine
    from renxing.i18n import _
    from renxing.warning import dispatch

    engine = get_engine()
    console = Console()

    def line(c: dispatch.Counts) -> str:
        return _("已发 {sent}，已送达 {delivered}，失败 {failed}（放弃 {given_up}）").format(
            sent=c.sent, delivered=c.delivered, failed=c.failed, given_up=c.given_up
        )

    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())

    def one_round() -> dispatch.Counts:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(_("发送预警"), total=dispatch.due(engine) or None)
            return dispatch.run(engine, progress=lambda c: bar.update(task, completed=c.claimed, description=line(c)))

    while True:
        done = one_round()
        console.print(_("处理 {claimed} 条：").format(claimed=done.claimed) + line(done))
        if loop <= 0:
            return
        time.sleep(loop)


@app.command("climb")
def climb_command() -> None:
    """Hand the households still unreached at their warning's deadline one rung up the chain."""
    from renxing.db import get_engine
    from renxing.i18n import _
    from renxing.warning import climbing

    done = climbing.run(get_engine())
    typer.echo(
        _("上溯预警 {warnings} 条，未确认 {households} 户，通知 {recipients} 人").format(
            warnings=done.warnings, households=done.households, recipients=done.recipients
        )
    )
