"""The one way to answer with a file: personal data, so never cached, always with a file name."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response


def file_response(
    content: bytes | Iterable[str | bytes], *, mimetype: str, filename: str, inline: bool = False
) -> Response:
    """A download (or, inline, a page to show) that no browser or proxy keeps; content may be a stream."""
    response = Response(content, mimetype=mimetype)  # type: ignore[arg-type]  # werkzeug accepts mixed chunks
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
