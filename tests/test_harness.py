"""The test harness isolates requests as production does: a write that is never committed is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from hms import create_app
from hms.extensions import db
from hms.models import Department
from tests.conftest import fetch, fresh, make_settings
from tests.factories import DepartmentFactory


@pytest.fixture
def probe(app: Flask, tmp_path: Path) -> Flask:
    """An app on the test database with two extra routes: one renames a department and forgets to commit."""
    probe = create_app(make_settings(tmp_path, database_url=app.config["SQLALCHEMY_DATABASE_URI"]))

    @probe.put("/probe/departments/<int:department_id>")
    def rename_without_commit(department_id: int):
        department = db.session.get(Department, department_id)
        department.name = "Forgotten"
        db.session.flush()  # the row is written inside the transaction, which is never committed
        return {"name": department.name}

    @probe.put("/probe/departments/<int:department_id>/committed")
    def rename_and_commit(department_id: int):
        db.session.get(Department, department_id).name = "Kept"
        db.session.commit()
        return {"committed": True}

    @probe.get("/probe/departments/<int:department_id>")
    def read(department_id: int):
        return {"name": db.session.get(Department, department_id).name}

    return probe


def test_an_uncommitted_write_is_invisible_to_the_next_request_and_to_the_test(probe):
    department = DepartmentFactory(name="Cardiology")
    client = probe.test_client()
    url = f"/probe/departments/{department.id}"

    assert client.put(url).get_json() == {"name": "Forgotten"}  # the request saw its own write
    assert client.get(url).get_json() == {"name": "Cardiology"}  # the next request does not
    assert fetch(Department, department.id).name == "Cardiology"  # nor does the test


def test_a_committed_write_is_seen_by_the_next_request_and_the_test(probe):
    department = DepartmentFactory(name="Cardiology")
    client = probe.test_client()
    url = f"/probe/departments/{department.id}"

    assert client.put(f"{url}/committed").status_code == 200
    assert client.get(url).get_json() == {"name": "Kept"}
    assert fetch(Department, department.id).name == "Kept"


def test_a_request_made_inside_a_tests_session_does_not_share_it(probe):
    department = DepartmentFactory(name="Cardiology")
    with fresh() as session:
        session.get(Department, department.id).name = "Set-up never committed"
        session.flush()
        assert probe.test_client().get(f"/probe/departments/{department.id}").get_json() == {"name": "Cardiology"}
    assert fetch(Department, department.id).name == "Cardiology"


def test_no_app_context_is_held_for_a_test():
    from flask import has_app_context

    assert not has_app_context()
