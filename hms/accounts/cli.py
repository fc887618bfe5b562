"""Account commands: `flask create-admin` and `flask ensure-admin`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from hms.accounts.service import create_admin, ensure_admin
from hms.common.errors import DomainError
from hms.extensions import db
from hms.models import Role, User


@click.command("create-admin")
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_admin_command(username: str, email: str, password: str) -> None:
    """Create an administrator account."""
    try:
        user = create_admin(username=username, email=email, password=password)
    except DomainError as error:
        detail = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in error.fields.items())
        raise click.ClickException(f"{error.message} {detail}".strip()) from error
    click.echo(f"Administrator {user.username} created.")


@click.command("ensure-admin")
@with_appcontext
def ensure_admin_command() -> None:
    """Create `admin` from HMS_ADMIN_PASSWORD when it is set and no administrator exists."""
    user = ensure_admin()
    if user is not None:
        click.echo(f"Administrator {user.username} created from HMS_ADMIN_PASSWORD.")
    elif db.session.execute(select(User.id).where(User.role == Role.ADMIN.value).limit(1)).first() is None:
        click.echo("No administrator yet: set HMS_ADMIN_PASSWORD or run `flask create-admin`.")


commands: list[click.Command] = [create_admin_command, ensure_admin_command]
