"""``renxing sensors …``: Sensors from the command line."""

import typer

app = typer.Typer(help="Sensors from the command line.", no_args_is_help=True)
