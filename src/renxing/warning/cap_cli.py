"""``renxing cap …``: CAP 1.2 alerts from the command line."""

import typer

app = typer.Typer(help="CAP 1.2 alerts from the command line.", no_args_is_help=True)
