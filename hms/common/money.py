"""Money as integer minor units (paise, cents): exact sums, one rounding rule, one printed form."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def to_minor(amount: Decimal | int | str | None) -> int:
    """An amount in major units (a Decimal such as a doctor's fee) in minor units; none is zero."""
    return int(Decimal(str(amount or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


def percent_of(amount_minor: int, percent: Decimal) -> int:
    """`percent` of an amount, rounded half up once, in minor units (tax on a subtotal)."""
    return int((Decimal(amount_minor) * percent / Decimal(100)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(amount_minor: int, currency: str) -> str:
    """`INR 1,234.50`: the printed form (PDFs, reports); the SPA formats with the browser's Intl instead."""
    sign = "-" if amount_minor < 0 else ""
    whole, cents = divmod(abs(amount_minor), 100)
    return f"{currency} {sign}{whole:,}.{cents:02d}"
