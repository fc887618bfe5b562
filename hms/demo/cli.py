"""`flask demo-data`: load the demo hospital (idempotent)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hms.demo.loader import load_demo_data


@click.command("demo-data")
@with_appcontext
def demo_data_command() -> None:
    """Load the demo hospital (idempotent: does nothing when the demo admin exists)."""
    summary = load_demo_data()
    click.echo(summary["message"])


commands: list[click.Command] = [demo_data_command]
