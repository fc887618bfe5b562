"""The demo hospital through FHIR: every resource of every type, as each role sees it, validates as R4."""

from __future__ import annotations

from sqlalchemy import select

from hms.demo.loader import load_demo_data
from hms.fhir.registry import RESOURCES
from hms.models import User
from tests.conftest import bearer, fetch_all, fresh
from tests.fhir.helpers import fhir

CLINICAL = {"Condition", "MedicationRequest"}


def _user(username: str) -> User:
    return fetch_all(select(User).filter_by(username=username))[0]


def test_every_type_validates_for_every_role_on_the_demo_hospital(client):
    with fresh():
        load_demo_data()
    for username in ("admin", "dr.asha", "patient1"):
        user = _user(username)
        headers = bearer(user)
        for resource_type in sorted(RESOURCES):
            if resource_type in CLINICAL and user.role == "admin":
                continue
            found = fhir(client.get(f"/fhir/{resource_type}?_count=100", headers=headers))
            assert found["total"] > 0, (username, resource_type)
            first = found["entry"][0]["resource"]
            assert fhir(client.get(f"/fhir/{resource_type}/{first['id']}", headers=headers)) == first
