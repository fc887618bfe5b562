"""`flask audit-verify`: walk the hash chain and say whether any record was changed or removed."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hms.audit.service import verify_chain


@click.command("audit-verify")
@with_appcontext
def audit_verify() -> None:
    """Check every audit record against its hash and its predecessor; exit 1 at the first broken one."""
    checked, broken = verify_chain()
    if broken is None:
        click.echo(f"OK: {checked} records")
        return
    at = broken.at.isoformat(sep=" ", timespec="seconds") if broken.at else "?"
    click.echo(f"BROKEN at record #{broken.id} ({broken.action}, {at})")
    raise SystemExit(1)


commands = [audit_verify]
