"""Every admin route of people management: no token 401, patient and doctor 403, admin allowed."""

from __future__ import annotations

import pytest

from tests.factories import AdminFactory, DepartmentFactory, DoctorFactory, PatientFactory

ROUTES = [
    ("get", "/api/admin/departments"),
    ("post", "/api/admin/departments"),
    ("put", "/api/admin/departments/{department}"),
    ("delete", "/api/admin/departments/{department}"),
    ("get", "/api/admin/doctors"),
    ("post", "/api/admin/doctors"),
    ("get", "/api/admin/doctors/{doctor}"),
    ("put", "/api/admin/doctors/{doctor}"),
    ("delete", "/api/admin/doctors/{doctor}"),
    ("post", "/api/admin/doctors/{doctor}/block"),
    ("post", "/api/admin/doctors/{doctor}/unblock"),
    ("get", "/api/admin/patients"),
    ("post", "/api/admin/patients"),
    ("get", "/api/admin/patients/{patient}"),
    ("put", "/api/admin/patients/{patient}"),
    ("delete", "/api/admin/patients/{patient}"),
    ("post", "/api/admin/patients/{patient}/block"),
    ("post", "/api/admin/patients/{patient}/unblock"),
]


@pytest.fixture
def people():
    return {"department": DepartmentFactory(), "doctor": DoctorFactory(), "patient": PatientFactory()}


def _call(client, method, path, people, headers=None):
    url = path.format(department=people["department"].id, doctor=people["doctor"].id, patient=people["patient"].id)
    return getattr(client, method)(url, headers=headers or {}, json={} if method in ("post", "put") else None)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_admin_route_needs_a_token(client, people, method, path):
    response = _call(client, method, path, people)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_admin_route_is_forbidden_to_patients_and_doctors(client, auth, people, method, path):
    for user in (people["patient"].user, people["doctor"].user):
        response = _call(client, method, path, people, headers=auth(user))
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_admin_route_is_open_to_admins(client, auth, people, method, path):
    response = _call(client, method, path, people, headers=auth(AdminFactory()))
    assert response.status_code in (200, 201, 409, 422), response.get_json()
