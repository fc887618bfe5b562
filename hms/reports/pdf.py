"""HTML to PDF with WeasyPrint, shared by the reports and the patient's history download."""

from __future__ import annotations

import logging
import mimetypes
from functools import cache
from pathlib import Path
from typing import Any
from urllib.request import url2pathname

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


PACKAGE = Path(__file__).resolve().parent.parent
# The only files a rendered document may pull in: the application's own bundled templates and assets.
ASSET_DIRS = (PACKAGE / "reports" / "templates", PACKAGE / "exports" / "templates")


def bundled_asset_fetcher() -> Any:
    """A WeasyPrint URL fetcher for the bundled assets only (built lazily: WeasyPrint may be missing here)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class BundledAssetFetcher(URLFetcher):
        """Serves inline data: URIs and files under ASSET_DIRS; any other URL, file or host is refused.

        Defence in depth: templates escape user text today, but a slip must not let a PDF read local files or
        make the server call other hosts.
        """

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file:"):
                path = Path(url2pathname(url.split("?")[0].removeprefix("file:"))).resolve()
                if path.is_file() and any(path.is_relative_to(folder) for folder in ASSET_DIRS):
                    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
            raise ValueError(f"Only the application's bundled assets may be fetched, not {url[:200]}")

    return BundledAssetFetcher()


def html_to_pdf(html: str) -> bytes:
    """A self-contained HTML page (inline CSS and SVG, no external assets) printed to PDF."""
    problem = renderer_problem()
    if problem:
        log.error("PDF requested but WeasyPrint cannot load: %s", problem)
        raise PdfUnavailable()
    from weasyprint import HTML

    return HTML(string=html, base_url=str(ASSET_DIRS[0]) + "/", url_fetcher=bundled_asset_fetcher()).write_pdf()
