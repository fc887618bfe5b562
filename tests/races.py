"""Requests sent at the same moment, each on its own test client (so its own app context, session and database
connection): the concurrency tests of booking, invoicing and FHIR booking race through here."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse


def error_code(response: TestResponse) -> str | None:
    """The API's error code of an answer (None for a success)."""
    payload = response.get_json(silent=True) or {}
    return payload.get("error", {}).get("code")


def at_once(
    app: Flask,
    requests: Sequence[tuple[str, str, dict, dict]],
    read: Callable[[TestResponse], Any] = error_code,
) -> list[tuple[int, Any]]:
    """Send (method, url, json, headers) requests behind one barrier; return (status, read(answer)) of each."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def worker(index: int, method: str, url: str, body: dict, headers: dict) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.open(url, method=method, json=body, headers=headers)
        results[index] = (response.status_code, read(response))

    threads = [threading.Thread(target=worker, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
