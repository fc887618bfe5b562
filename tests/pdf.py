"""Reading PDFs in tests with pypdf (no poppler needed), and a loud skip when WeasyPrint cannot print."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader


def require_pdf_renderer() -> None:
    """Skip, loudly, when WeasyPrint's system libraries (pango, harfbuzz) are not installed."""
    from hms.reports.pdf import renderer_problem

    problem = renderer_problem()
    if problem:
        pytest.skip(f"PDF TESTS SKIPPED: WeasyPrint cannot print here ({problem}); apt-get install libpango-1.0-0")


def pdf_text(data: bytes, *, layout: bool = False) -> str:
    """The text of every page; `layout=True` keeps columns apart as `pdftotext -layout` does."""
    reader = PdfReader(io.BytesIO(data))
    mode = "layout" if layout else "plain"
    return "\n".join(page.extract_text(extraction_mode=mode) for page in reader.pages)
