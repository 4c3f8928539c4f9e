"""``renxing supplies …``: the cloud warehouse from the command line."""

import typer

app = typer.Typer(help="The cloud warehouse of emergency supplies.", no_args_is_help=True)
