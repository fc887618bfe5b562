"""HTML to PDF with WeasyPrint, shared by the reports and the patient's history download."""

from __future__ import annotations

import logging

# WeasyPrint logs every layout step at INFO; the application logs at INFO.
logging.getLogger("weasyprint").setLevel(logging.WARNING)
logging.getLogger("fontTools").setLevel(logging.WARNING)


def html_to_pdf(html: str) -> bytes:
    """A self-contained HTML page (inline CSS and SVG, no external assets) printed to PDF."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf()
