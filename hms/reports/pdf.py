"""HTML to PDF with WeasyPrint, shared by the reports and the patient's history download."""

from __future__ import annotations

import logging
from functools import cache

from hms.common.errors import DomainError

# WeasyPrint logs every layout step at INFO; the application logs at INFO.
logging.getLogger("weasyprint").setLevel(logging.WARNING)
logging.getLogger("fontTools").setLevel(logging.WARNING)
log = logging.getLogger(__name__)


class PdfUnavailable(DomainError):
    status, code = 503, "pdf_unavailable"
    default_message = "PDF printing is not available on this server right now; the HTML version is."


@cache
def renderer_problem() -> str | None:
    """Why WeasyPrint cannot print here (its system libraries, pango and harfbuzz, are missing), or None."""
    try:
        import weasyprint  # noqa: F401
    except (OSError, ImportError) as error:
        return str(error).splitlines()[0]
    return None


def html_to_pdf(html: str) -> bytes:
    """A self-contained HTML page (inline CSS and SVG, no external assets) printed to PDF."""
    problem = renderer_problem()
    if problem:
        log.error("PDF requested but WeasyPrint cannot load: %s", problem)
        raise PdfUnavailable()
    from weasyprint import HTML

    return HTML(string=html).write_pdf()
