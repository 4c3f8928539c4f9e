"""``renxing privacy``: a person's requests under PIPL, and the retention periods, for the operator."""

import json
from pathlib import Path

import typer
from rich.console import Console

from renxing.auth.principal import SYSTEM
from renxing.config import get_settings
from renxing.db import get_engine, transaction
from renxing.errors import ServiceError
from renxing.people import subject_rights

privacy_app = typer.Typer(help="Personal data: export or erase on request, apply retention", no_args_is_help=True)


def _fail(console: Console, exc: ServiceError) -> None:
    console.print(f"[red]{exc.message}[/red]")
    for e in exc.errors:
        console.print(f"  {e.field}: {e.message}")
    raise typer.Exit(2)


@privacy_app.command("export")
def export_command(resident_id: int, out: Path = typer.Option(..., "--out", help="a .json file")) -> None:
    """Write everything held about RESIDENT_ID to a JSON file (audited)."""
    try:
        with transaction(get_engine()) as session:
            data = subject_rights.export_personal_data(session, SYSTEM, resident_id)
    except ServiceError as exc:
        _fail(Console(stderr=True), exc)
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    typer.echo(f"{out}: {sum(len(v) for v in data.values() if isinstance(v, list))} records")


@privacy_app.command("erase")
def erase_command(
    resident_id: int, confirm_name: str = typer.Option(..., "--confirm-name", help="the resident's name")
) -> None:
    """Erase RESIDENT_ID's personal data everywhere (audited; cannot be undone)."""
    try:
        with transaction(get_engine()) as session:
            counts = subject_rights.erase_personal_data(session, SYSTEM, resident_id, confirm_name=confirm_name)
    except ServiceError as exc:
        _fail(Console(stderr=True), exc)
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


@privacy_app.command("purge")
def purge_command() -> None:
    """Apply the retention periods (RENXING_AUDIT_RETENTION_DAYS, RENXING_DELETED_RESIDENT_DAYS)."""
    settings = get_settings()
    with transaction(get_engine()) as session:
        counts = subject_rights.purge_expired(
            session, audit_days=settings.audit_retention_days, deleted_resident_days=settings.deleted_resident_days
        )
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
