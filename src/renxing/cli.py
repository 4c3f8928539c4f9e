"""The ``renxing`` command: database, demo, serving, users, imports."""

import typer
import uvicorn
from rich.console import Console

from renxing import migrate
from renxing.app import create_app
from renxing.auth import service as auth_service
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM
from renxing.config import get_settings
from renxing.db import get_engine, transaction

app = typer.Typer(help="韧性 Renxing — resilient governance of urban communities", no_args_is_help=True)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
user_app = typer.Typer(help="User accounts", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
console = Console()


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
            session, SYSTEM, username=username, password=password, role=role, display_name=name or username,
            scope_unit_ids=scope, resident_id=resident_id,
        )
        console.print(f"[green]created[/green] {user.username} ({role.value})")


def main() -> None:  # pragma: no cover
    app()
