"""``renxing warning …``: Early warning from the command line."""

import typer

app = typer.Typer(help="Early warning from the command line.", no_args_is_help=True)
