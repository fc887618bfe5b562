"""Jinja2 environments for printed documents: autoescaped, strict about undefined names, one per template folder."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


@cache
def document_templates(folder: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(folder)), autoescape=select_autoescape(default=True), undefined=StrictUndefined
    )
